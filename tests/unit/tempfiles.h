/*
 * tempfiles.h - for the tests of crash-safe writes: how many temporaries
 * of fl_file_write() (src/util/file.h) a folder holds. Zero after every
 * write, failed or not.
 */
#ifndef FL_TEST_TEMPFILES_H
#define FL_TEST_TEMPFILES_H

#include <dirent.h>

#include "file.h"

static int temps_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += fl_file_is_temp(e->d_name);
	if (d)
		closedir(d);
	return n;
}

#endif /* FL_TEST_TEMPFILES_H */
