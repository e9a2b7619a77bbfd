/*
 * fl.h - what every firelane module shares: the error enum and the log hook.
 *
 * Errors: one enum, 0 is success, every error is negative (libuv's rule), and
 * fl_strerror() names it. A function that can fail returns int; extra detail
 * for a person (a file:line, a reason) goes into a caller-supplied buffer.
 *
 * Logging: libraries never print. A module reports through fl_log(), which
 * calls the hook the program installed with fl_log_set() (mosquitto's on_log).
 * The level check comes first so a disabled level costs one comparison.
 */
#ifndef FL_H
#define FL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FL_ERRNO_MAP(XX)                                                       \
	XX(INVAL, -1, "invalid argument")                                      \
	XX(NOMEM, -2, "out of memory")                                         \
	XX(IO, -3, "input/output error")                                       \
	XX(NOENT, -4, "no such file or stream")                                \
	XX(CONFIG, -5, "configuration error")                                  \
	XX(FORMAT, -6, "malformed input")                                      \
	XX(DECODE, -7, "video decode error")                                   \
	XX(EOF, -8, "end of input")                                            \
	XX(RANGE, -9, "value out of range")                                    \
	XX(UNSUPPORTED, -10, "not supported by this build")                    \
	XX(AGAIN, -11, "try again")                                            \
	XX(FULL, -12, "no space left")                                         \
	XX(EXIST, -13, "already exists")

enum fl_errno {
	FL_OK = 0,
#define XX(name, val, msg) FL_E##name = (val),
	FL_ERRNO_MAP(XX)
#undef XX
};

/* A static string naming err; never NULL, never to be freed. */
const char *fl_strerror(int err);

/* 1 when err is the environment's failure, not the input's: an I/O error
 * (a read-only or failing disk included), no space left, busy, out of
 * memory (FL_EIO, FL_EFULL, FL_EAGAIN, FL_ENOMEM). The same call may
 * succeed later, so what it carried must not be given up: the hub does not
 * acknowledge the message, the edge pauses the transfer. Anything else
 * (FL_EINVAL, FL_EFORMAT, ...) says the input itself is wrong. */
int fl_err_transient(int err);

enum fl_log_level {
	FL_LOG_ERROR = 0,
	FL_LOG_WARN = 1,
	FL_LOG_INFO = 2,
	FL_LOG_DEBUG = 3
};

/* The program's log sink. tag names the subsystem ("config", "vision", ...).
 * msg is formatted and lives only for the call. */
typedef void (*fl_log_fn)(int level, const char *tag, const char *msg,
			  void *user);

/* Install the sink and the most verbose level to pass. Not thread-safe: call
 * once at start-up, before other threads run. fn NULL silences everything. */
void fl_log_set(fl_log_fn fn, int max_level, void *user);
int fl_log_enabled(int level);

/* A ready sink for programs: "<program>: <level>: <tag>: <msg>" on stderr,
 * where user is the program's name (a const char * that outlives the
 * program's logging). */
void fl_log_stderr(int level, const char *tag, const char *msg, void *user);
void fl_log(int level, const char *tag, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* CRC-32 (IEEE 802.3, as zlib's crc32()) of len bytes, continuing crc (0
 * to start): the checksum of the spool's records and the edge's memory. */
uint32_t fl_crc32(uint32_t crc, const void *data, size_t len);

/* A reason for a person, formatted into err (errlen bytes, always
 * terminated); nothing when err is NULL or errlen 0. */
void fl_seterr(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* url for messages to a person or a log: a password in it - the user
 * information's ("rtsp://user:pass@host/...", "postgresql://u:pw@h/db")
 * or a query's password=... ("...?password=pw&...") - becomes "***"
 * (FL_SECRET_MASK). Written into out (len bytes, always terminated, cut
 * where it does not fit). */
void fl_url_redact(const char *url, char *out, size_t len);

#define FL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define FL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* FL_H */
