/*
 * accept-close-server: the plain server for raw TCP churn in Benchmarks/peers.sh. One thread,
 * one blocking listening socket: accept a connection and close it at once, so the server closes
 * first (its side keeps TIME_WAIT) and the client reads EOF. Nothing of portstorm is involved.
 *
 *   accept-close-server IPV4 PORT SECONDS
 *
 * Stops after SECONDS (alarm) or on SIGTERM/SIGINT and prints "accepted N" (accept() returns).
 * Build: gcc -O2 -o accept-close-server accept-close-server.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: accept-close-server IPV4 PORT SECONDS\n"); return 2; }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) { fprintf(stderr, "accept-close-server: bad IPv4 address\n"); return 2; }
    int seconds = atoi(argv[3]);
    if (seconds < 1) { fprintf(stderr, "accept-close-server: SECONDS must be >= 1\n"); return 2; }

    /* No SA_RESTART: the alarm or a signal interrupts accept() and ends the loop. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(l, 4096) < 0) {
        fprintf(stderr, "accept-close-server: %s\n", strerror(errno));
        return 1;
    }
    alarm((unsigned)seconds);
    unsigned long long accepted = 0, failed = 0;
    while (!stop) {
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) { accepted++; close(fd); }
        else if (errno != EINTR) failed++;
    }
    printf("accepted %llu failed %llu\n", accepted, failed);
    return 0;
}
