/* udp_echo: the kernel ceiling for dns_bench.sh. A bare UDP echo loop with the same shape
 * as dnsmock/dnsserver.c's workers (SO_REUSEPORT sockets, one thread each, poll with a
 * timeout once the socket runs dry, recvmmsg/sendmmsg batches of 32) that answers each datagram
 * with itself, QR set, so dnsperf counts it as a response. What it costs is the network path
 * without any DNS work; dnsmock/echo is then the share of that ceiling dnsmock reaches.
 *
 *   cc -O2 -pthread -o udp_echo udp_echo.c && ./udp_echo 127.0.0.1 0 2
 * prints "port N" once bound, runs until SIGINT or SIGTERM. Not part of the build. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define BUF 4096
#define MAX_THREADS 16

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int bind_udp(const char *host, unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1, rcv = 1 << 20;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *worker(void *arg)
{
    int fd = *(int *)arg;
    static __thread uint8_t bufs[BATCH][BUF];
    struct sockaddr_storage peers[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    int idle = 1;
    while (!stop_flag) {
        /* As dnsserver.c: poll only once the socket ran dry. */
        if (idle) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, 100) <= 0)
                continue;
        }
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = BUF;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_name = &peers[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        idle = n <= 0;
        if (n <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            iov[i].iov_len = msgs[i].msg_len;
            if (msgs[i].msg_len >= 3)
                bufs[i][2] |= 0x80; /* QR */
        }
        int sent = 0;
        while (sent < n) {
            int r = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), MSG_DONTWAIT);
            sent += r > 0 ? r : 1;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    unsigned port = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
    unsigned nth = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 2;
    int fds[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    if (nth < 1 || nth > MAX_THREADS || port > 65535) {
        fprintf(stderr, "usage: udp_echo [HOST] [PORT] [THREADS 1-16]\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fds[0] = bind_udp(host, port);
    if (fds[0] < 0) {
        perror("bind");
        return 1;
    }
    struct sockaddr_in got;
    socklen_t glen = sizeof(got);
    getsockname(fds[0], (struct sockaddr *)&got, &glen);
    port = ntohs(got.sin_port);
    for (unsigned i = 1; i < nth; i++) {
        fds[i] = bind_udp(host, port);
        if (fds[i] < 0) {
            perror("bind");
            return 1;
        }
    }
    printf("port %u\n", port);
    fflush(stdout);
    for (unsigned i = 0; i < nth; i++)
        pthread_create(&th[i], NULL, worker, &fds[i]);
    for (unsigned i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    return 0;
}
