/*
 * publish_retained.c - what describes the present, retained on the broker:
 * each lane's state (clear, occupied, blocked) and settings (enabled,
 * dwell_s), and Home Assistant discovery (docs/mqtt.md, "Lane state and
 * settings", "Home Assistant discovery").
 *
 * A note on retained state. None of this goes through the spool: a value
 * lost while offline loses nothing, because every (re)connection publishes
 * the current one (publish__on_connect), and Home Assistant's own restart
 * ("online" on homeassistant/status) brings the discovery again. Between
 * connections a lane is re-published only when its state or settings
 * changed (the dirty flags, set under the lock by the incident table and by
 * edge_publish_settings()).
 */
#include "publish_internal.h"

#include <string.h>

#include "fl.h"

static const char *lane_state(const struct lane_pub *lp)
{
	return lp->blocked ? "blocked" : lp->occupied ? "occupied" : "clear";
}

void publish__lane(edge_publish *p, int cam, int lane, int state, int settings)
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

void publish__dirty_lanes(edge_publish *p)
{
	pthread_mutex_lock(&p->mu);
	for (int c = 0; c < p->cfg->ncameras; c++)
		for (int l = 0; l < p->cfg->cameras[c].nlanes; l++)
			if (p->lanes[c][l].dirty ||
			    p->lanes[c][l].settings_dirty)
				publish__lane(p, c, l, p->lanes[c][l].dirty,
					      p->lanes[c][l].settings_dirty);
	pthread_mutex_unlock(&p->mu);
}

void publish__discovery(edge_publish *p)
{
	char topic[FL_TOPIC_MAX], buf[4096];

	for (int c = 0; c < p->cfg->ncameras; c++) {
		const fl_camera_conf *cc = &p->cfg->cameras[c];
		for (int l = 0; l < cc->nlanes; l++)
			for (int w = 0; w < FL_DISCOVERY_ENTITIES; w++) {
				size_t n = fl_discovery(w, p->cfg->site,
							p->cfg->device_id,
							cc->id, cc->lanes[l].id,
							cc->lanes[l].name,
							topic, sizeof(topic),
							buf, sizeof(buf));
				if (n < sizeof(buf))
					fl_mqtt_publish(p->mqtt, topic, buf, n,
							1, 1);
			}
	}
}

void publish__on_connect(void *user)
{
	edge_publish *p = user;

	publish__status_online(p);
	pthread_mutex_lock(&p->mu);
	for (int c = 0; c < p->cfg->ncameras; c++)
		for (int l = 0; l < p->cfg->cameras[c].nlanes; l++)
			publish__lane(p, c, l, 1, 1);
	pthread_mutex_unlock(&p->mu);
	publish__discovery(p);
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
