/*
 * scene.h - the model behind firelane-scene, the synthetic scene generator.
 *
 * A scenario is a small world: a fixed camera on a pole looking down a
 * residential fire lane, a set of actors (vehicles, e-bikes, boxes, people)
 * that move along scripted trajectories, a few nuisances (night, rain, clouds,
 * camera shake, illumination drift) and one or two zones. The generator
 * renders the world frame by frame into an RGB buffer, encodes it to H.264,
 * and derives the ground truth from the same trajectories it rendered, so the
 * labels can never drift from the pixels.
 *
 * World coordinates are metres on the ground plane: X across the lane
 * (positive right, the lane's centre line at X = 0), Z along it (away from
 * the camera's pole), Y up. The camera is a pinhole on a pole or bracket at
 * (X, hc, Z), turned by a yaw and tilted down by a pitch, with no roll; its
 * height, tilt, lens and place, and the lane's width and surroundings, are
 * drawn per seed (main.c), so seeds differ in the picture's whole geometry,
 * not only in where a car stops.
 *
 * Determinism: every random choice draws from sc_rng seeded from the command
 * line seed, the scenario and, for per-frame effects, the frame index, so the
 * same seed gives the same frames whatever order scenarios are generated in.
 *
 * Ownership: struct sc_scene is a plain value the script fills; struct
 * sc_render owns its buffers (sc_render_init/sc_render_free).
 */
#ifndef SC_SCENE_H
#define SC_SCENE_H

#include <stddef.h>
#include <stdint.h>

#define SC_MAX_ACTORS 640
#define SC_MAX_KEYS 32
#define SC_MAX_ZONES 3
#define SC_FOREVER 1e9
#define SC_MAX_DIRTY 96

/* ---- random numbers: splitmix64, tiny and good enough ---- */
struct sc_rng {
	uint64_t s;
};

static inline uint64_t sc_rng_u64(struct sc_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline void sc_rng_seed(struct sc_rng *r, uint64_t a, uint64_t b)
{
	r->s = a * 0xD1B54A32D192ED03ull ^ (b + 0x8CB92BA72F3D8DD7ull);
	sc_rng_u64(r);
}

/* Uniform in [0, 1). */
static inline double sc_rng_unit(struct sc_rng *r)
{
	return (double)(sc_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double sc_rng_range(struct sc_rng *r, double a, double b)
{
	return a + (b - a) * sc_rng_unit(r);
}

/* ---- camera ---- */

/*
 * Where the camera is and how it looks, drawn per seed and scenario
 * (main.c): a pole by the lane or a bracket over it, at a height, turned
 * towards the lane (yaw) and tilted down (pitch), with a lens.
 */
struct sc_geom {
	double x, z;   /* foot of the pole on the ground, metres */
	double height; /* lens above the ground, metres */
	double yaw;    /* radians, positive turns towards +X */
	double pitch;  /* radians, positive looks down */
	double focal;  /* focal length as a fraction of the image width */
};

struct sc_cam {
	int w, h;
	double f;        /* focal length, pixels */
	double cx, cy;   /* principal point */
	double X, Z, hc; /* camera position: ground point and height */
	double rt[3], dn[3], fw[3]; /* image right, image down, forward */
	double yh; /* horizon row (no roll: the same in every column) */
};

#define SC_NEAR 0.1 /* metres: nearer than this to the lens is not drawn */

/* The first generator's camera (before geometry was drawn): 6 m over the
 * lane's centre line, looking along it, lens 0.9 w, tilted so the horizon
 * is a quarter of the way down a w x h picture. */
void sc_geom_classic(struct sc_geom *g, int w, int h);
void sc_cam_init(struct sc_cam *c, int w, int h, const struct sc_geom *g);
/* World (X, Y, Z) in camera coordinates: v[0] right, v[1] down, v[2] depth. */
void sc_cam_coords(const struct sc_cam *c, double X, double Y, double Z,
		   double v[3]);
/* Project world (X, Y, Z) to pixel (px, py); a point nearer than SC_NEAR
 * is pushed out to SC_NEAR (returns 0 then, 1 when it was in front). */
int sc_project(const struct sc_cam *c, double X, double Y, double Z, double *px,
	       double *py);
/* The ground point (X, Z) seen at pixel (px, py); 0 when that ray does not
 * meet the ground (sky). */
int sc_unproject(const struct sc_cam *c, double px, double py, double *X,
		 double *Z);

/* ---- actors ---- */
enum sc_kind {
	SC_CAR,
	SC_VAN,
	SC_TRUCK,
	SC_EBIKE,
	SC_TRICYCLE,
	SC_BOXES,
	SC_PERSON
};

/* How the actor moves from the previous key to this one. */
enum sc_seg {
	SC_SEG_LINE,     /* constant speed */
	SC_SEG_EASE_OUT, /* decelerate to rest at this key */
	SC_SEG_EASE_IN,  /* accelerate from rest at the previous key */
	SC_SEG_HOLD      /* stay exactly at the previous key's position */
};

struct sc_key {
	double t, x, z;
	int seg;
};

struct sc_actor {
	enum sc_kind kind;
	int obstructs; /* counts as an obstruction when at rest in a zone */
	int axis;      /* 0: long axis along Z (the lane), 1: along X */
	int facing;    /* +1: front towards +Z / +X, -1: the other way */
	double len, wid, hgt;
	uint8_t rgb[3];  /* body / shirt colour */
	uint8_t rgb2[3]; /* second colour: trousers, cargo */
	int lights;      /* head/tail lights on while moving at night */
	double sway;     /* person: idle sway amplitude, metres */
	unsigned style;  /* random bits for small details */
	struct sc_key key[SC_MAX_KEYS];
	int nkey;
	char what[64];
};

/* Where actor a is at time t. Returns 0 when it is not in the world. */
int sc_actor_pos(const struct sc_actor *a, double t, double *x, double *z);
/* Unit heading of actor a at time t (its direction of travel, or facing). */
void sc_actor_dir(const struct sc_actor *a, double t, double *dx, double *dz);

/* Trajectory builders: begin at (x, z) at time t, then append keys. */
void sc_traj_begin(struct sc_actor *a, double t, double x, double z);
void sc_traj_to(struct sc_actor *a, int seg, double t, double x, double z);
void sc_traj_hold(struct sc_actor *a, double t);

/*
 * Drive along a straight line from (x0, z0) to a rest point (xr, zr), come
 * to rest at exactly t_stop (smooth deceleration), stay until t_go, then
 * accelerate along the same line and on to (x1, z1). Cruise speed v m/s.
 * t_stop <= 0 means at rest from the start; t_go >= SC_FOREVER means it
 * never leaves.
 */
void sc_drive_park(struct sc_actor *a, double x0, double z0, double xr,
		   double zr, double x1, double z1, double t_stop, double t_go,
		   double v);
/* Drive from (x0, z0) to (x1, z1) at constant speed v, entering at t0. */
void sc_drive_through(struct sc_actor *a, double x0, double z0, double x1,
		      double z1, double t0, double v);
/* Append a walk at speed v from the last key to (x, z); returns arrival. */
double sc_walk_to(struct sc_actor *a, double x, double z, double v);

/* ---- the world of one scenario ---- */

/*
 * The street across X (the fire lane's centre line is X = 0, it runs along
 * +Z). Left of the lane: a strip of asphalt, a kerb, a paved footway, a
 * lawn, facades. Right of it either parking bays (outside the lane) or a
 * two-way driving road, then a kerb, a footway, a lawn, facades. Everything
 * is derived from the lane's half width and the right side's kind by
 * sc_layout_set(), so scripts and the renderer agree on where things are.
 */
enum sc_right { SC_RIGHT_BAYS, SC_RIGHT_ROAD };

struct sc_layout {
	double hw;           /* half the lane's width (yellow line to line) */
	int right;           /* enum sc_right */
	double kerb_l;       /* left edge of the asphalt (kerb face) */
	double walk_l;       /* middle of the left footway */
	double lawn_l;       /* the lawn begins left of this */
	double bay0, bay1;   /* parking bays (SC_RIGHT_BAYS) */
	double road0, road1; /* the driving road's two lanes (SC_RIGHT_ROAD) */
	double road_mid;     /* its dashed centre line */
	double edge_r;       /* right edge of the asphalt (kerb face) */
	double walk_r, lawn_r;
	double fac_l, fac_r; /* facades */
};

void sc_layout_set(struct sc_layout *l, double hw, int right);

struct sc_zone {
	char name[16];
	double x0, x1, z0, z1; /* a rectangle on the ground */
};

/* A zone becomes "must not alarm" when nothing is due in it; a zone flagged
 * here says so on purpose (a driving road beside the fire lane). */
#define SC_ZONE_ROAD "road"

struct sc_scene {
	double duration; /* seconds of video */
	double dwell;    /* dwell_s of every lane */
	int night, rain, clouds, shake;
	int ir; /* IR night: grey picture, illuminator's hot spot */
	double ir_on, ir_off; /* day/night switch: IR mode in [on, off) */
	double ir_gain;       /* exposure jump while the switch is in IR mode */
	double noise;         /* sensor noise sigma, grey levels */
	double drift;      /* amplitude of global illumination drift, 0..0.3 */
	double dusk;       /* illumination lost by the end, 0..1 */
	double cloud_dark; /* how dark a cloud shadow is, 0..1 (0: 0.45) */
	struct sc_geom geom;
	struct sc_layout lay;
	int nzone;
	struct sc_zone zone[SC_MAX_ZONES];
	int nactor;
	struct sc_actor actor[SC_MAX_ACTORS];
	struct sc_rng rng; /* for scripts */
	/* --plate-image: the picture (RGB, w x h, borrowed) drawn as the
	 * plate of every obstructing car or van, keeping its aspect at the
	 * plate's width; NULL: plain plates */
	const uint8_t *plate_rgb;
	int plate_w, plate_h;
};

/* Add a zeroed actor of the given kind with sizes and colours drawn from
 * s->rng; NULL when the table is full. */
struct sc_actor *sc_add(struct sc_scene *s, enum sc_kind kind,
			const char *what);
/* Colour close to the asphalt grey (the hard case for a detector). */
void sc_grey_body(struct sc_actor *a, struct sc_rng *r);
void sc_zone_set(struct sc_scene *s, const char *name, double x0, double x1,
		 double z0, double z1);
/* Is the picture grey (IR) at time t? */
int sc_ir_at(const struct sc_scene *s, double t);

/* ---- the scenario table ---- */
typedef void (*sc_script_fn)(struct sc_scene *s, int quick);

enum sc_set {
	SC_SET_SUITE,  /* the scored suite: --all */
	SC_SET_LONG,   /* long negative scenes for the bench: --long */
	SC_SET_FIXTURE /* other tests' scenes: only by --scenario NAME */
};

struct sc_scenario {
	const char *name;
	const char *desc;
	sc_script_fn script;
	/* the obstruction is there from frame 0: write NAME_reference.ppm
	 * (the clear lane) and name it in the edge config */
	int reference;
	int set;         /* enum sc_set */
	const char *cls; /* failure class it measures ("class" in the json) */
};

extern const struct sc_scenario sc_scenarios[];
extern const size_t sc_nscenarios;

/* ---- rendering ---- */
struct sc_render {
	struct sc_cam cam;
	const struct sc_scene *scene;
	uint64_t seed;
	uint8_t *bg;    /* precomputed background, RGB */
	uint8_t *cv;    /* the frame being drawn, RGB */
	float *gx, *gz; /* ground coordinates per pixel; gz 0 above horizon */
	int8_t *noise;  /* Gaussian noise table */
	size_t nnoise;
	uint8_t *cloud;  /* 512 x 512 cloud shadow texture */
	uint32_t *uv;    /* per-pixel cloud texture coordinates */
	uint8_t *yuv;    /* output planes, w*h*3/2 */
	uint8_t *bgyuv;  /* the background converted once */
	uint8_t *clean;  /* this frame in YUV before gain, noise, shake */
	uint16_t *irmap; /* IR illuminator's gain per luma pixel (x256), or
			  * NULL when the scene never goes IR */
	int dirty[SC_MAX_DIRTY][4]; /* canvas rectangles drawn this frame */
	int ndirty;
};

int sc_render_init(struct sc_render *r, const struct sc_scene *s, int w, int h,
		   uint64_t seed);
void sc_render_free(struct sc_render *r);
/* Render frame index fi at time t into r->yuv (Y plane, then U, then V). */
void sc_render_frame(struct sc_render *r, long fi, double t);
/* Render the scene without any actor, lit as at time t, into r->yuv, with
 * sensor noise (and shake, rain) drawn from noise_seed instead of the
 * video's: what a clear-lane reference captured by the camera looks like. */
void sc_render_empty(struct sc_render *r, double t, uint64_t noise_seed);
/* Convert r->yuv to RGB into rgb (caller's, w*h*3 bytes). */
void sc_render_rgb(const struct sc_render *r, uint8_t *rgb);

/* Bounding box (pixels, clipped to the frame) of actor a standing at (x, z);
 * returns 0 when it is not visible, -1 when part of it is behind the lens
 * (no box then). */
int sc_actor_bbox(const struct sc_cam *c, const struct sc_actor *a, double x,
		  double z, int box[4]);

#endif /* SC_SCENE_H */
