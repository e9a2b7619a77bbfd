/*
 * common.c - annotated image folders, boxes and a clock for firelane-plates
 * (see plates.h).
 */
#include "plates.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int plates_read_truth(const char *path, plates_truth *t, char *why,
		      size_t whylen)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int fields;

	memset(t, 0, sizeof(*t));
	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		snprintf(why, whylen, "%s: empty", path);
		return -1;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	fields = sscanf(line, "%511[^\t]\t%lf\t%lf\t%lf\t%lf\t%40[^\t]",
			t->file, &t->box[0], &t->box[1], &t->box[2], &t->box[3],
			t->text);
	if (fields < 5 || !(t->box[2] > 0) || !(t->box[3] > 0)) {
		snprintf(why, whylen,
			 "%s: bad annotation (want file, x, y, "
			 "w, h and text, tab separated)",
			 path);
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void plates_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int plates_list(const char *dir, char ***out, size_t *nout)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*out = NULL;
	*nout = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".txt") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn)
				goto fail;
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto fail;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	*nout = n;
	return 0;
fail:
	closedir(d);
	plates_free_names(names, n);
	errno = ENOMEM;
	return -1;
}

double plates_iou(const double *a, const double *b)
{
	double x0 = fmax(a[0], b[0]), y0 = fmax(a[1], b[1]);
	double x1 = fmin(a[0] + a[2], b[0] + b[2]);
	double y1 = fmin(a[1] + a[3], b[1] + b[3]);
	double in, un;

	if (x1 <= x0 || y1 <= y0)
		return 0.0;
	in = (x1 - x0) * (y1 - y0);
	un = a[2] * a[3] + b[2] * b[3] - in;
	return un > 0 ? in / un : 0.0;
}
