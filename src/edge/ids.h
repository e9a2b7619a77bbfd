/*
 * ids.h - a camera's or a lane's place in the edge's configuration, from
 * its id (events, commands and records name them by id; the edge's tables
 * are indexed by place).
 */
#ifndef FL_EDGE_IDS_H
#define FL_EDGE_IDS_H

#include "config.h"

/* The index of camera id in cfg->cameras, or -1 (id NULL or unknown). */
int edge_camera_index(const fl_config *cfg, const char *id);

/* The index of lane id in camera cam's lanes, or -1 (cam out of range, id
 * NULL or unknown). */
int edge_lane_index(const fl_config *cfg, int cam, const char *id);

#endif /* FL_EDGE_IDS_H */
