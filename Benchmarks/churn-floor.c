/*
 * churn-floor: the plain-syscall reference client for connection churn, to measure portstorm
 * against. Keeps CONCURRENCY connections in flight with non-blocking sockets and one epoll set:
 * socket, connect, (http: send a GET with Connection: close), read until the server closes,
 * close, and start the next one. No io_uring, no batching: five or six system calls per
 * connection, the cost any epoll-based tool pays.
 *
 *   churn-floor http|raw HOST PORT CONCURRENCY SECONDS
 *
 * Prints "completed N connections in T s = R conn/s; failed F" and one "errno E (NAME): n" line
 * per failure cause. A connection counts as completed when the server's close (EOF) is read.
 * Build: gcc -O2 -o churn-floor churn-floor.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECTING = 1, SENDING, READING };

struct conn { int fd; int state; size_t sent; };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in target;
static int epfd, http;
static char request[256];
static size_t request_len;
static unsigned long long completed, failed, by_errno[256];
static double end_time;

static void start(struct conn *c);

/* The slot is free again: the next connection starts at once while the run lasts. */
static void next(struct conn *c) {
    close(c->fd);
    c->fd = -1;
    if (now() < end_time) start(c);
}

static void fail(struct conn *c, int err) {
    failed++;
    by_errno[err > 0 && err < 256 ? err : 255]++;
    next(c);
}

/* Opens the next connection in slot c; a failure is counted and the slot stays empty. */
static void start(struct conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { failed++; by_errno[errno < 256 ? errno : 255]++; return; }
    c->sent = 0;
    int rc = connect(c->fd, (struct sockaddr *)&target, sizeof target);
    /* An immediate failure leaves the slot empty until the next sweep (no tight retry loop). */
    if (rc < 0 && errno != EINPROGRESS) { failed++; by_errno[errno < 256 ? errno : 255]++; close(c->fd); c->fd = -1; return; }
    c->state = CONNECTING;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void want(struct conn *c, int state, unsigned events) {
    c->state = state;
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is left of the request; then waits for the answer and the server's close. */
static void send_more(struct conn *c) {
    while (c->sent < request_len) {
        ssize_t n = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) { want(c, SENDING, EPOLLOUT); return; }
            fail(c, errno);
            return;
        }
        c->sent += (size_t)n;
    }
    want(c, READING, EPOLLIN);
}

static void ready(struct conn *c) {
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) { fail(c, err); return; }
        if (http) send_more(c); else want(c, READING, EPOLLIN);
        return;
    }
    if (c->state == SENDING) { send_more(c); return; }
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) continue;
        if (n == 0) { completed++; next(c); return; }
        if (errno == EAGAIN) return;
        fail(c, errno);
        return;
    }
}

int main(int argc, char **argv) {
    if (argc != 6 || (strcmp(argv[1], "http") && strcmp(argv[1], "raw"))) {
        fprintf(stderr, "usage: churn-floor http|raw HOST PORT CONCURRENCY SECONDS\n");
        return 2;
    }
    http = !strcmp(argv[1], "http");
    target.sin_family = AF_INET;
    target.sin_port = htons((unsigned short)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) { fprintf(stderr, "churn-floor: HOST must be an IPv4 address\n"); return 2; }
    int concurrency = atoi(argv[4]);
    double seconds = atof(argv[5]);
    if (concurrency < 1 || seconds <= 0) { fprintf(stderr, "churn-floor: CONCURRENCY and SECONDS must be positive\n"); return 2; }
    request_len = (size_t)snprintf(request, sizeof request,
        "GET / HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n", argv[2], argv[3]);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct conn *conns = calloc((size_t)concurrency, sizeof *conns);
    struct epoll_event *events = calloc((size_t)concurrency, sizeof *events);
    double begin = now();
    end_time = begin + seconds;
    for (int i = 0; i < concurrency; i++) start(&conns[i]);
    /* Bounded by time: new connections stop at the deadline, those in flight get one second more.
       Slots left empty by an immediate failure are refilled by a sweep every 100 ms. */
    double sweep = begin + 0.1;
    for (;;) {
        double t = now();
        if (t >= end_time + 1.0) break;
        int n = epoll_wait(epfd, events, concurrency, 50);
        for (int i = 0; i < n; i++) ready(events[i].data.ptr);
        if (now() >= sweep) {
            sweep = now() + 0.1;
            int open = 0;
            for (int i = 0; i < concurrency; i++) {
                if (conns[i].fd < 0 && now() < end_time) start(&conns[i]);
                if (conns[i].fd >= 0) open++;
            }
            if (open == 0 && now() >= end_time) break;
        }
    }
    double took = now() - begin;
    printf("completed %llu connections in %.3f s = %.0f conn/s; failed %llu\n", completed, took,
           completed / took, failed);
    for (int e = 1; e < 256; e++)
        if (by_errno[e]) printf("errno %d (%s): %llu\n", e, strerrorname_np(e) ? strerrorname_np(e) : "?", by_errno[e]);
    return 0;
}
