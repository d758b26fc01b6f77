/* cc_zip.h: an in-memory zip writer for CertCentral's zip download formats (cc_dl.c).
 * Stored entries only (method 0): the payloads are PEM text a few KiB long, so deflate
 * would save little, and the writer stays small enough to read in one sitting instead of
 * costing mockca libzip and the compression libraries it pulls in. The layout follows
 * PKWARE's APPNOTE.TXT (version 6.3.10): a local file header and the data per entry, then
 * the central directory, then the end of central directory record; no zip64, no data
 * descriptors, no extra fields. Thread-safe. */
#ifndef MOCKCA_CC_ZIP_H
#define MOCKCA_CC_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CC_ZIP_FILES_MAX 64          /* entries per archive */
#define CC_ZIP_NAME_MAX 255          /* bytes of one entry name */
#define CC_ZIP_TOTAL_MAX (64u << 20) /* the whole archive; far below zip's 4 GiB limit */

struct cc_zip_entry {
    const char *name; /* relative path, '/' separated, printable ASCII, no "..", not empty */
    const void *data;
    size_t len;
};

/* The CRC-32 of zip (ISO 3309, reflected polynomial 0xEDB88320) of len bytes, continuing
 * from crc (0 to start). The table is built at first use. */
uint32_t cc_zip_crc32(uint32_t crc, const void *data, size_t len);

/* Builds an archive of the n entries in the order given, every entry stamped with
 * mtime_s (Unix seconds, UTC; a virtual clock's time is fine) as an MS-DOS date and
 * time, clamped to 1980..2107. *out is a new buffer of *outlen bytes the caller frees.
 * MC_ERR_INVALID for a bad or duplicate name, MC_ERR_TOO_BIG over CC_ZIP_FILES_MAX entries
 * or CC_ZIP_TOTAL_MAX bytes, MC_ERR_NOMEM. */
enum mc_err cc_zip_build(const struct cc_zip_entry *files, size_t n, int64_t mtime_s, uint8_t **out,
                         size_t *outlen) MC_MUST_CHECK;

#endif
