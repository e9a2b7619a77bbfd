/*
 * ids.c - ids to places in the configuration (see ids.h).
 */
#include "ids.h"

#include <string.h>

int edge_camera_index(const fl_config *cfg, const char *id)
{
	for (int i = 0; id && i < cfg->ncameras; i++)
		if (!strcmp(cfg->cameras[i].id, id))
			return i;
	return -1;
}

int edge_lane_index(const fl_config *cfg, int cam, const char *id)
{
	if (cam < 0 || cam >= cfg->ncameras)
		return -1;
	for (int i = 0; id && i < cfg->cameras[cam].nlanes; i++)
		if (!strcmp(cfg->cameras[cam].lanes[i].id, id))
			return i;
	return -1;
}
