/*
 * memory.h - what an edge camera keeps across a restart: the clear lane as
 * learnt (day and night apart) and the lanes' open incidents with how each
 * object looked (docs/memory.md).
 *
 * Pure: a codec between fl_memory and bytes, and the comparisons that say
 * whether a memory still fits what the camera shows. The edge reads and
 * writes the files (src/edge/memory.c). fl_memory_create() allocates, and
 * fl_memory_destroy() (NULL-safe) frees, everything it holds.
 */
#ifndef FL_MEMORY_H
#define FL_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "lane.h"

#define FL_MEM_SLOTS 2  /* the clear lane by day and by night */
#define FL_MEM_PATCH 32 /* an object's look: at most this many px a side */

enum fl_mem_slot { FL_MEM_DAY = 0, FL_MEM_NIGHT = 1 };

/* An open incident and how its object looked (analysis pixels of its box,
 * scaled down to at most FL_MEM_PATCH a side). */
typedef struct fl_mem_incident {
	fl_lane_memo m; /* rest_since on the memory's clock */
	int pw, ph;     /* the look: pw x ph grey levels; 0 x 0 none */
	uint8_t patch[FL_MEM_PATCH * FL_MEM_PATCH];
} fl_mem_incident;

typedef struct fl_mem_lane {
	char id[FL_ID_MAX];
	unsigned next_seq; /* the lane's next incident number: ids stay
			    * unique when two runs share their prefix */
	int n;
	fl_mem_incident inc[FL_LANE_SPOTS];
} fl_mem_lane;

typedef struct fl_memory {
	uint64_t fingerprint; /* fl_memory_fingerprint() of its writer */
	int w, h;             /* analysis size */
	double saved_at;      /* on the memory's clock */
	struct {
		int used;
		double learnt_at; /* when it was last taken from the model */
		uint8_t *bg;      /* w x h: the lane, grey levels (owned) */
		uint8_t *q;       /* w x h: 0 unknown, 1 assumed, 2 seen */
	} slot[FL_MEM_SLOTS];
	int nlanes;
	fl_mem_lane lane[FL_MAX_LANES];
} fl_memory;

/* An empty memory for w x h analysis frames; NULL on bad sizes or out of
 * memory. */
fl_memory *fl_memory_create(int w, int h);
void fl_memory_destroy(fl_memory *m);

/* Who a memory belongs to: the device, the camera and the analysis size.
 * A file with another fingerprint is someone else's (foreign). */
uint64_t fl_memory_fingerprint(const char *device, const char *camera, int w,
			       int h);

/* The bytes of m, malloc'd into *out (the caller frees): 0 or FL_ENOMEM. */
int fl_memory_encode(const fl_memory *m, uint8_t **out, size_t *len);

/*
 * Read buf into m (created for the expected size). Everything is checked:
 * the magic and version, the checksum, the fingerprint (expect), sizes,
 * counts and ids. Returns 0, or FL_EFORMAT with the reason in err; m is
 * then left empty.
 */
int fl_memory_decode(fl_memory *m, const uint8_t *buf, size_t len,
		     uint64_t expect, char *err, size_t errlen);

/* The look of box (analysis pixels: x, y, w, h) in img (w x h), scaled
 * down to at most FL_MEM_PATCH a side, into inc's patch. */
void fl_memory_take_look(fl_mem_incident *inc, const uint8_t *img, int w, int h,
			 const double *box);

/* How well box in img looks like inc's patch: normalised cross-correlation
 * of the two, -1..1 (lighting changes its level and contrast, not its
 * pattern); -1 without a patch or an empty box. */
double fl_memory_look_like(const fl_mem_incident *inc, const uint8_t *img,
			   int w, int h, const double *box);

#endif /* FL_MEMORY_H */
