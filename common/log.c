/* common/log.c: one leveled key=value logger, one line per call. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <pthread.h>

#include "common/clock.h"

#define LOG_LINE_MAX 4096
#define LOG_OPENSSL_MAX_ERRORS 16

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_level = LOGL_INFO;
static atomic_bool log_show_secrets = false;
/* stderr is not a constant expression, so "not yet set" stands for it. */
static bool log_stream_set = false;
static FILE *log_stream = NULL;

void log_set_level(enum log_level level)
{
    if (level < LOGL_ERROR)
        level = LOGL_ERROR;
    if (level > LOGL_DEBUG)
        level = LOGL_DEBUG;
    atomic_store(&log_level, (int)level);
}

int log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (name == NULL)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(name, names[i]) == 0)
            return i;
    }
    return -1;
}

void log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&log_mu);
    log_stream = stream;
    log_stream_set = true;
    pthread_mutex_unlock(&log_mu);
}

void log_set_show_secrets(bool show)
{
    atomic_store(&log_show_secrets, show);
}

static FILE *log_current_stream_locked(void)
{
    return log_stream_set ? log_stream : stderr;
}

bool log_enabled(enum log_level level)
{
    if ((int)level > atomic_load(&log_level))
        return false;
    pthread_mutex_lock(&log_mu);
    bool on = log_current_stream_locked() != NULL;
    pthread_mutex_unlock(&log_mu);
    return on;
}

static const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOGL_ERROR:
        return "error";
    case LOGL_WARN:
        return "warn";
    case LOGL_INFO:
        return "info";
    case LOGL_DEBUG:
        return "debug";
    }
    return "info";
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
    char line[LOG_LINE_MAX + 1]; /* + the newline */
    char ts[40];
    char ev[128];
    struct timespec now;

    if (!log_enabled(level))
        return;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        now.tv_sec = 0;
        now.tv_nsec = 0;
    }
    clock_format_rfc3339((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, ts, sizeof(ts));
    log_quote(event != NULL ? event : "", ev, sizeof(ev));

    int used =
        snprintf(line, LOG_LINE_MAX, "ts=%s level=%s event=%s", ts, log_level_name(level), ev);
    if (used < 0)
        return;
    size_t pos = (size_t)used < LOG_LINE_MAX ? (size_t)used : LOG_LINE_MAX - 1;
    if (fmt != NULL && fmt[0] != '\0' && pos + 2 < LOG_LINE_MAX) {
        line[pos++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(line + pos, LOG_LINE_MAX - pos, fmt, ap);
        va_end(ap);
        if (w <= 0)
            line[pos - 1] = '\0'; /* no text after all: no trailing space */
        else if ((size_t)w >= LOG_LINE_MAX - pos)
            /* Truncated: say so at the end rather than cut silently. */
            memcpy(line + LOG_LINE_MAX - 5, "...", 4);
    }
    /* One event, one line: a caller's value that slipped through unquoted must not be able
     * to forge a second log line. */
    size_t len = 0;
    for (char *p = line; *p != '\0'; p++, len++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            *p = '?';
    }
    /* The newline goes out with the line in one fwrite: stderr is unbuffered, so separate
     * puts were two write(2) calls per event. */
    line[len++] = '\n';

    pthread_mutex_lock(&log_mu);
    FILE *f = log_current_stream_locked();
    if (f != NULL) {
        (void)fwrite(line, 1, len, f);
        fflush(f);
    }
    pthread_mutex_unlock(&log_mu);
}

const char *log_secret(const char *s)
{
    if (s == NULL)
        return "";
    return atomic_load(&log_show_secrets) ? s : "[redacted]";
}

static bool log_needs_quote(const char *s)
{
    if (s[0] == '\0')
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == 0x7f)
            return true;
    }
    return false;
}

const char *log_quote(const char *s, char *buf, size_t n)
{
    if (buf == NULL || n == 0)
        return buf != NULL ? buf : "";
    if (s == NULL)
        s = "";
    if (!log_needs_quote(s)) {
        size_t len = strlen(s);
        if (len > n - 1)
            len = n - 1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return buf;
    }
    if (n < 3) {
        buf[0] = '\0';
        return buf;
    }
    size_t pos = 0;
    buf[pos++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        char esc[8];
        size_t elen;
        switch (*p) {
        case '"':
            elen = 2;
            memcpy(esc, "\\\"", 2);
            break;
        case '\\':
            elen = 2;
            memcpy(esc, "\\\\", 2);
            break;
        case '\n':
            elen = 2;
            memcpy(esc, "\\n", 2);
            break;
        case '\r':
            elen = 2;
            memcpy(esc, "\\r", 2);
            break;
        case '\t':
            elen = 2;
            memcpy(esc, "\\t", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02x", *p);
                elen = 4;
            } else {
                esc[0] = (char)*p;
                elen = 1;
            }
            break;
        }
        /* Keep room for the closing quote and the NUL; never split an escape. */
        if (pos + elen + 2 > n)
            break;
        memcpy(buf + pos, esc, elen);
        pos += elen;
    }
    buf[pos++] = '"';
    buf[pos] = '\0';
    return buf;
}

void log_openssl_errors(enum log_level level, const char *event)
{
    char text[LOG_LINE_MAX / 2];
    char quoted[LOG_LINE_MAX / 2];
    size_t pos = 0;
    int count = 0;
    unsigned long code;
    const char *data = NULL;
    int flags = 0;

    text[0] = '\0';
    /* Always drain, even when the level is off: a stale error must not be blamed on the
     * next, unrelated OpenSSL call. */
    for (;;) {
        code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
        if (code == 0)
            break;
        count++;
        if (count > LOG_OPENSSL_MAX_ERRORS)
            continue;
        char one[256];
        ERR_error_string_n(code, one, sizeof(one));
        int w = snprintf(text + pos, sizeof(text) - pos, "%s%s%s%s", pos > 0 ? "; " : "", one,
                         (flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0' ? ": " : "",
                         (flags & ERR_TXT_STRING) && data != NULL ? data : "");
        if (w > 0) {
            pos += (size_t)w;
            if (pos >= sizeof(text))
                pos = sizeof(text) - 1;
        }
    }
    if (count == 0)
        return;
    log_msg(level, event, "openssl_errors=%d openssl=%s", count,
            log_quote(text, quoted, sizeof(quoted)));
}
