/* common/file.c: bounded whole-file reads and atomic replacement. */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_READ_CHUNK 65536

enum mc_err file_read_all(const char *path, size_t max, char **out, size_t *len)
{
    enum mc_err rc = MC_ERR_IO;
    int fd = -1;
    char *buf = NULL;
    size_t used = 0;
    size_t cap = 0;

    if (out == NULL || len == NULL || path == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? MC_ERR_NOT_FOUND : MC_ERR_IO;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto out;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)max) {
        rc = MC_ERR_TOO_BIG;
        goto out;
    }
    /* The size from fstat is only a hint (the file may grow, /proc lies): read until EOF,
     * and stop one byte past the cap to tell "exactly max" from "more". */
    for (;;) {
        if (used == cap) {
            size_t want = cap == 0 ? FILE_READ_CHUNK : cap * 2;
            if (want > max + 1)
                want = max + 1;
            if (want <= cap) {
                rc = MC_ERR_TOO_BIG;
                goto out;
            }
            char *nb = realloc(buf, want + 1);
            if (nb == NULL) {
                rc = MC_ERR_NOMEM;
                goto out;
            }
            buf = nb;
            cap = want;
        }
        ssize_t r = read(fd, buf + used, cap - used);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (r == 0)
            break;
        used += (size_t)r;
        if (used > max) {
            rc = MC_ERR_TOO_BIG;
            goto out;
        }
    }
    if (buf == NULL) {
        buf = malloc(1);
        if (buf == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    buf = NULL;
    rc = MC_OK;
out:
    if (rc != MC_OK) {
        int saved = errno;
        free(buf);
        if (fd >= 0)
            close(fd);
        errno = saved;
    } else if (fd >= 0) {
        close(fd);
    }
    return rc;
}

static enum mc_err file_write_fd(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return MC_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return MC_OK;
}

enum mc_err file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    enum mc_err rc = MC_ERR_IO;
    char *tmp = NULL;
    char *dir = NULL;
    int fd = -1;
    int dfd = -1;
    bool tmp_exists = false;
    int saved_errno = 0;

    if (path == NULL || path[0] == '\0' || (data == NULL && len > 0))
        return MC_ERR_INVALID;
    size_t plen = strlen(path);
    if (path[plen - 1] == '/')
        return MC_ERR_INVALID;

    /* The temporary sits next to path so that rename() never crosses a file system. */
    tmp = malloc(plen + sizeof(".tmp.XXXXXX"));
    dir = malloc(plen + 2);
    if (tmp == NULL || dir == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        memcpy(dir, ".", 2);
    } else if (slash == path) {
        memcpy(dir, "/", 2);
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }

    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        goto out;
    tmp_exists = true;
    rc = file_write_fd(fd, data, len);
    if (rc != MC_OK)
        goto out;
    rc = MC_ERR_IO;
    /* Mode before fsync, so the permission change is durable with the data. */
    if (fchmod(fd, mode) != 0)
        goto out;
    if (fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    tmp_exists = false;
    /* The rename is only durable once the directory entry is on disk. A file system that
     * cannot fsync a directory (EINVAL) has nothing more to flush. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0 && fsync(dfd) != 0 && errno != EINVAL)
        goto out;
    rc = MC_OK;
out:
    saved_errno = errno;
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp_exists)
        unlink(tmp);
    free(tmp);
    free(dir);
    errno = saved_errno;
    return rc;
}
