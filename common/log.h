/* log.h: one leveled logger for every binary. Lines are key=value fields:
 *   ts=2026-11-24T03:24:15.123Z level=info event=dns.listen addr=127.0.0.1:8053
 * Secrets (keys, HMACs, AuthKeys, JWS payloads) go through log_secret() so they are
 * redacted unless the user asked to see them. Thread-safe: one line, one write. */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stdbool.h>
#include <stdio.h>

/* Named LOGL_ so as not to collide with <syslog.h>. */
enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

void log_set_level(enum log_level level);
/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_set_stream(FILE *stream); /* default stderr; NULL silences the log */
void log_set_show_secrets(bool show);
bool log_enabled(enum log_level level);

/* Writes one line: ts, level, event, then the caller's key=value text from fmt. A value
 * with spaces or quotes should be passed through log_quote(). Nothing is written below
 * the current level. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns s, or "[redacted]" unless secrets are shown. Never NULL ("" for NULL). */
const char *log_secret(const char *s);

/* Writes s into buf (size n) as a double-quoted, escaped value when it has spaces, quotes,
 * '=' or control bytes, else as it is; truncated to fit. Returns buf. */
const char *log_quote(const char *s, char *buf, size_t n);

/* Drains OpenSSL's error queue into one log line at level under event. The one place that
 * reads the queue (STYLE.md habit 9). */
void log_openssl_errors(enum log_level level, const char *event);

#endif
