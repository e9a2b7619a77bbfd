/*
 * fuzz_hubconf.c - the hub's configuration loader (src/hub/hubconf.c) on
 * arbitrary YAML bytes. The bytes are handed to hub_conf_load() as a file
 * (a memfd: no disk), so the whole path runs: reading, libyaml, the engine
 * (src/core/schema.c) on the hub's tables, the cross-key checks.
 *
 * What must hold, besides never crashing, leaking or tripping a sanitizer:
 *   - a refusal is a negative error with a reason that names the file
 *     (FILE:LINE: reason or FILE: reason);
 *   - an accepted configuration has what the hub needs (mqtt.host,
 *     one store - sqlite or postgresql -, evidence_dir, a client id), every number in its
 *     documented range, and its dump (--check-config) loads again
 *     (hub_conf_parse) and dumps the same.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hubconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_hubconf: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hub_conf c;
	char path[64], err[1024];
	int fd = memfd_create("fuzz-hub.yaml", 0), rc;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	rc = hub_conf_load(&c, path, err, sizeof(err));
	close(fd);
	if (rc) {
		CHECK(rc < 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(!strncmp(err, path, strlen(path)));
		return 0;
	}
	CHECK(c.mqtt.host[0] && !c.store.sqlite[0] != !c.store.postgresql[0] &&
	      c.evidence_dir[0] && c.mqtt.client_id[0]);
	CHECK(c.mqtt.port >= 0 && c.mqtt.port <= 65535);
	CHECK(c.mqtt.keepalive_s >= 5 && c.mqtt.keepalive_s <= 3600);
	CHECK(c.mqtt.session_expiry_s >= 60);
	CHECK(c.max_payload >= 1024 && c.max_payload <= 16777216);
	CHECK(c.quarantine_max >= 100);
	CHECK(c.incoming_max_age_s >= 1 && c.evidence_keep_days >= 0);
	CHECK(c.alerts.retry_max >= 1 && c.alerts.retry_max <= 100);
	CHECK(c.alerts.nsites >= 0 && c.alerts.nsites <= HUB_MAX_SITES);
	CHECK(c.mqtt.port >= 1);
	for (int i = 0; i < c.alerts.nsites; i++)
		CHECK(c.alerts.sites[i].escalate_s >= 0);
	{
		static hub_conf again;
		size_t n = hub_conf_dump(&c, NULL, 0), n2;
		char *a = malloc(n + 1), *b = malloc(n + 1);

		CHECK(a && b);
		CHECK(hub_conf_dump(&c, a, n + 1) == n);
		/* the header names the file: the same name again */
		rc = hub_conf_parse(&again, a, n, path, err, sizeof(err));
		if (rc)
			fprintf(stderr,
				"fuzz_hubconf: dump does not load: "
				"%s\n%s",
				err, a);
		CHECK(rc == 0);
		n2 = hub_conf_dump(&again, b, n + 1);
		CHECK(n2 == n && !strcmp(a, b));
		free(a);
		free(b);
	}
	return 0;
}
