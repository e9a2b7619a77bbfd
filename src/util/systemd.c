/*
 * systemd.c - sd_notify without libsystemd (see systemd.h): one datagram to
 * $NOTIFY_SOCKET, a path or an abstract socket when it starts with '@'.
 */
#include "systemd.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fl.h"

void fl_sd_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (!path || !path[0] || strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   len) < 0)
		fl_log(FL_LOG_DEBUG, "systemd", "sd_notify: %s",
		       strerror(errno));
	close(fd);
}

double fl_sd_watchdog_s(void)
{
	const char *u = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");

	if (!u || (pid && atol(pid) != (long)getpid()))
		return 0;
	return atof(u) / 1e6 / 2;
}
