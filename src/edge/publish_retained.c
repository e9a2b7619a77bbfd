/*
 * publish_retained.c - retained lane state, settings and Home Assistant
 * discovery.
 */
#include "publish_internal.h"

/* ---- the connection's view ------------------------------------------ */

static const char *lane_state(const struct lane_pub *lp)
{
	return lp->blocked ? "blocked" : lp->occupied ? "occupied" : "clear";
}

void publish_lane(edge_publish *p, int cam, int lane, int state,
			 int settings)
{
	const fl_camera_conf *cc = &p->cfg->cameras[cam];
	struct lane_pub *lp = &p->lanes[cam][lane];
	char topic[FL_TOPIC_MAX], buf[256];
	size_t n;

	if (state) {
		const char *s = lane_state(lp);
		fl_topic(topic, sizeof(topic), FL_TOPIC_LANE_STATE,
			 p->cfg->site, p->cfg->device_id, cc->id,
			 cc->lanes[lane].id);
		if (fl_mqtt_publish(p->mqtt, topic, s, strlen(s), 1, 1) == 0)
			lp->dirty = 0;
	}
	if (settings) {
		n = fl_lane_settings_json(!lp->disabled, lp->dwell_s, buf,
					  sizeof(buf));
		fl_topic(topic, sizeof(topic), FL_TOPIC_LANE_SETTINGS,
			 p->cfg->site, p->cfg->device_id, cc->id,
			 cc->lanes[lane].id);
		if (fl_mqtt_publish(p->mqtt, topic, buf, n, 1, 1) == 0)
			lp->settings_dirty = 0;
	}
}

void publish_discovery(edge_publish *p)
{
	char topic[FL_TOPIC_MAX], buf[4096];

	for (int c = 0; c < p->cfg->ncameras; c++) {
		const fl_camera_conf *cc = &p->cfg->cameras[c];
		for (int l = 0; l < cc->nlanes; l++)
			for (int w = 0; w < FL_DISCOVERY_ENTITIES; w++) {
				size_t n = fl_discovery(
					w, p->cfg->site, p->cfg->device_id,
					cc->id, cc->lanes[l].id,
					cc->lanes[l].name, topic, sizeof(topic),
					buf, sizeof(buf));
				if (n < sizeof(buf))
					fl_mqtt_publish(p->mqtt, topic, buf, n,
							1, 1);
			}
	}
}

void on_connect(void *user)
{
	edge_publish *p = user;

	fl_mqtt_publish(p->mqtt, p->status_topic, "online", 6, 1, 1);
	pthread_mutex_lock(&p->mu);
	for (int c = 0; c < p->cfg->ncameras; c++)
		for (int l = 0; l < p->cfg->cameras[c].nlanes; l++)
			publish_lane(p, c, l, 1, 1);
	pthread_mutex_unlock(&p->mu);
	publish_discovery(p);
}

void edge_publish_settings(edge_publish *p, int cam, int lane, int disabled,
			   double dwell_s)
{
	pthread_mutex_lock(&p->mu);
	p->lanes[cam][lane].disabled = disabled;
	p->lanes[cam][lane].dwell_s = dwell_s;
	p->lanes[cam][lane].settings_dirty = 1;
	pthread_mutex_unlock(&p->mu);
}
