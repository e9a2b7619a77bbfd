/*
 * spool.h - the on-disk store-and-forward queue of everything the hub must
 * get (incident messages, evidence chunks, heartbeats). See spool.c for the
 * format, the durability argument and the priority rule.
 *
 * Threads: every function is safe to call from several threads at once (one
 * mutex inside); an fl_spool_msg returned by fl_spool_next() belongs to the
 * caller.
 */
#ifndef FL_MQTT_SPOOL_H
#define FL_MQTT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct fl_spool fl_spool;

/* What goes first when the spool is full: lower priority is dropped to make
 * room for higher; a message of the highest class is never dropped. */
enum fl_spool_prio {
	FL_SPOOL_HEARTBEAT = 0, /* dropped first, oldest first */
	FL_SPOOL_EVIDENCE = 1,  /* refused when full (the store keeps it) */
	FL_SPOOL_INCIDENT = 2   /* never dropped; refused (logged) when full */
};

typedef struct fl_spool_msg {
	uint64_t seq; /* spool order, strictly increasing, never reused */
	int prio;
	int qos;
	int retain;
	char *topic;   /* owned by the message */
	void *payload; /* owned by the message */
	size_t len;
} fl_spool_msg;

typedef struct fl_spool_stats {
	long messages;
	double bytes; /* on disk, headers included */
	long dropped; /* since open: heartbeats dropped to make room */
	long refused; /* since open: appends refused (full) */
} fl_spool_stats;

/*
 * Open (create, 0700) the spool in dir with a budget of max_bytes (0: no
 * bound). Scans what a previous run left: finished files are queued in
 * order, unfinished temporaries and files that fail their check are removed
 * (logged). Returns the spool (fl_spool_close frees it) or NULL with the
 * reason in err.
 */
fl_spool *fl_spool_open(const char *dir, double max_bytes, char *err,
			size_t errlen);

/* NULL-safe. Everything appended stays on disk for the next open. */
void fl_spool_close(fl_spool *s);

/*
 * Append one message durably: when this returns 0 the message survives a
 * crash or power loss (written, fsync'ed, renamed, directory fsync'ed).
 * *seq_out (may be NULL) gets its sequence number. When the budget is
 * exceeded, older messages of lower priority are dropped (heartbeats first);
 * if that is not enough, FL_EFULL and nothing is written (the caller logs
 * it; the refusal is counted). FL_EIO for a write error (reason in err).
 */
int fl_spool_append(fl_spool *s, int prio, int qos, int retain,
		    const char *topic, const void *payload, size_t len,
		    uint64_t *seq_out, char *err, size_t errlen);

/*
 * The first queued message with seq > after (0: from the start), read from
 * disk into *out (free with fl_spool_msg_free). Returns 0, FL_EEOF when
 * there is none, or an error (a file that vanished or fails its check is
 * removed and skipped).
 */
int fl_spool_next(fl_spool *s, uint64_t after, fl_spool_msg *out);

void fl_spool_msg_free(fl_spool_msg *m);

/* Internal (the fuzzer's entry): one record file's bytes -> *m (seq not
 * set; free with fl_spool_msg_free). 0, FL_EFORMAT (bad magic or version,
 * sizes that do not match the length, CRC mismatch) or FL_ENOMEM. */
int fl__spool_parse(const void *data, size_t len, fl_spool_msg *m);

/* The message seq was delivered: remove it. Unknown seq is ignored. */
int fl_spool_ack(fl_spool *s, uint64_t seq);

void fl_spool_stats_get(fl_spool *s, fl_spool_stats *st);

/* The spool's folder (owned by s). */
const char *fl_spool_dir(const fl_spool *s);

#endif /* FL_MQTT_SPOOL_H */
