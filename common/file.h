/* file.h: bounded reads and atomic writes. */
#ifndef MC_FILE_H
#define MC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Reads the whole file at path into a new NUL-terminated buffer *out (caller frees), its
 * length (without the NUL) in *len. MC_ERR_TOO_BIG if larger than max bytes,
 * MC_ERR_NOT_FOUND if absent, MC_ERR_IO otherwise. */
MC_MUST_CHECK enum mc_err file_read_all(const char *path, size_t max, char **out, size_t *len);

/* Writes data to path atomically: a temporary file in the same directory, fsync, chmod to
 * mode, rename over path, fsync of the directory. On failure path is untouched. */
MC_MUST_CHECK enum mc_err file_write_atomic(const char *path, const void *data, size_t len,
                                            mode_t mode);

#endif
