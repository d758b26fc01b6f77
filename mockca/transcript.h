/* transcript.h: every exchange mockca answers, as JSON lines (one object per line), for
 * the runner's judgement and for `mockca diff` (the vendor protocol regression check).
 *
 * One line:
 *   {"seq": N, "time": MS (virtual clock), "listener": "acme"|"certcentral"|"mgmt",
 *    "method", "path", "account": KID or null, "user_agent": UA or null,
 *    "request": {"headers": {NAME: VALUE}, "jws": true|false, "body": ...},
 *    "status": S, "response": {"headers": {NAME: VALUE}, "body": ...}}
 * A JWS body is {"protected": {...}, "payload": {...} | "" (POST-as-GET)}: decoded, with
 * the signature dropped; an EAB binding inside keeps its protected header only, an inner
 * keyChange JWS its protected header and payload. Authorization and X-DC-DEVKEY are
 * "REDACTED", and so is every JSON member named like a secret (auth_key, api_key, hmac,
 * private_key...). JSON bodies are kept as JSON when they parse and fit TR_MAX_BODY;
 * anything else is a string cut at TR_MAX_BODY (with "truncated": true on its side).
 * Request headers are a fixed set (the layer has no header enumeration): Content-Type,
 * Accept, Accept-Language, User-Agent, Authorization, X-DC-DEVKEY. Response headers are
 * all of them. A file has a size bound: past it, exchanges are counted, not written, and
 * tr_close appends {"dropped": N}. */
#ifndef MOCKCA_TRANSCRIPT_H
#define MOCKCA_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/http.h"

#define TR_MAX_BODY (16 * 1024)          /* bytes of a body kept per side */
#define TR_DEFAULT_MAX_BYTES (64u << 20) /* default bound of a transcript file */
#define TR_MAX_LINE (256 * 1024)         /* a line longer than this is not read back */
#define TR_MAX_RECORDS 200000            /* records tr_load reads at most */

struct tr_writer;

/* Opens (creates or truncates, mode 0644) path for a transcript of at most max_bytes
 * (0: TR_DEFAULT_MAX_BYTES). MC_ERR_IO when it cannot be opened. *out is new (tr_close). */
MC_MUST_CHECK enum mc_err tr_open_path(const char *path, size_t max_bytes, struct tr_writer **out);
/* Writes to fd (not closed by tr_close) with the same bound. */
MC_MUST_CHECK enum mc_err tr_open_fd(int fd, size_t max_bytes, struct tr_writer **out);
/* Appends {"dropped": N} when exchanges were dropped, closes a file it opened, frees. NULL ok. */
void tr_close(struct tr_writer *w);

/* Builds the record of one exchange (the object above, "seq" left out): listener names the
 * front end, at_ms the virtual time. account may be NULL (then read from the JWS "kid", or
 * from the Location of a new account). New object in *out (caller deletes). */
MC_MUST_CHECK enum mc_err tr_build(const char *listener, int64_t at_ms,
                                   const struct http_request *req,
                                   const struct http_response *resp, cJSON **out);
/* Numbers rec with the writer's next "seq" (added to rec) and writes it as one line,
 * atomically with respect to other writers of w. Thread-safe. MC_ERR_LIMIT when the
 * bound is reached (the record is counted as dropped), MC_ERR_IO on a write error. */
MC_MUST_CHECK enum mc_err tr_write(struct tr_writer *w, cJSON *rec);
/* Records written and dropped so far. */
void tr_counts(struct tr_writer *w, size_t *written, size_t *dropped);

/* Reads a transcript file into a new array of its exchange records (lines without
 * "method", such as {"dropped"}, are skipped; blank lines too). MC_ERR_INVALID with the
 * line number in err for a line that is not a JSON object, MC_ERR_TOO_BIG past
 * max_bytes (0: TR_DEFAULT_MAX_BYTES) or TR_MAX_RECORDS. */
MC_MUST_CHECK enum mc_err tr_load(const char *path, size_t max_bytes, cJSON **out, char *err,
                                  size_t errn);

/* Whether a JSON member name is a secret the transcript redacts (case-insensitive). */
int tr_is_secret_name(const char *name);

#endif
