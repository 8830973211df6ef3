/*
 * renegproxy: a TLS 1.2 front for a PostgreSQL server that renegotiates
 * while it relays, as old PostgreSQL and Amazon Redshift did. Built and run
 * by integration/renegotiation_test.go; Go's TLS server cannot renegotiate.
 *
 *   renegproxy CERT KEY UPHOST UPPORT MODE EVERY MAX [LISTENHOST]
 *
 * It listens on LISTENHOST (127.0.0.1 when not given), prints its port on
 * stdout, and serves each client
 * in a child process: it answers PostgreSQL's SSLRequest with 'S', does the
 * TLS 1.2 handshake, and relays to UPHOST:UPPORT in plain TCP. Counting the
 * bytes sent to the client, MODE
 *   every    renegotiates after every EVERY bytes, MAX times at most (0: no limit);
 *   loop     after EVERY bytes, renegotiates without end and relays nothing more;
 *   garbage  after EVERY bytes, asks for a renegotiation and answers the
 *            client's hello with bytes that are no TLS record;
 *   stall    after EVERY bytes, asks for a renegotiation, reads the client's
 *            hello, acknowledges it at once and then does nothing at all
 *            (its kernel still answers keep-alive probes); it writes
 *            "stalled in renegotiation" on stderr once the hello is read.
 * On stderr it writes "renegotiated N" as each renegotiation completes, and
 * "closed: REASON" when a client's connection ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int finished;  /* Finished messages this side sent: one per handshake */

static void count_finished(int write_p, int version, int content_type,
                           const void *buf, size_t len, SSL *ssl, void *arg) {
	(void)version; (void)ssl; (void)arg;
	if (write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
	    ((const unsigned char *)buf)[0] == SSL3_MT_FINISHED)
		finished++;
}

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what) {
	fprintf(stderr, "closed: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("upstream write");
		p += w;
		n -= (size_t)w;
	}
}

static void ssl_write_all(SSL *ssl, const char *p, size_t n) {
	while (n > 0) {
		int w = SSL_write(ssl, p, (int)n);
		if (w <= 0)
			die("client write");
		p += w;
		n -= (size_t)w;
	}
}

/* relay_client moves what the client sent to upstream; 0 when nothing came. */
static int relay_client(SSL *ssl, int up) {
	char buf[16384];
	int n = SSL_read(ssl, buf, sizeof buf);
	if (n > 0) {
		write_all(up, buf, (size_t)n);
		return n;
	}
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		die("client closed");
	default:
		die("client read");
	}
	return 0;
}

/* renegotiate sends a HelloRequest and waits, relaying, until the handshake
 * it starts is done. */
static void renegotiate(SSL *ssl, int cfd, int up, int *count) {
	int before = finished;
	if (SSL_renegotiate(ssl) != 1)
		die("SSL_renegotiate");
	if (SSL_do_handshake(ssl) != 1)
		die("hello request");
	while (finished == before) {
		struct pollfd p = {.fd = cfd, .events = POLLIN};
		if (SSL_pending(ssl) == 0 && poll(&p, 1, -1) < 0 && errno != EINTR)
			die("poll");
		relay_client(ssl, up);
	}
	fprintf(stderr, "renegotiated %d\n", ++*count);
}

static void serve(SSL_CTX *ctx, int cfd, const char *uphost, int upport,
                  const char *mode, long every, long max) {
	unsigned char req[8];
	size_t got = 0;
	while (got < sizeof req) {
		ssize_t n = read(cfd, req + got, sizeof req - got);
		if (n <= 0)
			die("no SSLRequest");
		got += (size_t)n;
	}
	static const unsigned char sslrequest[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
	if (memcmp(req, sslrequest, sizeof req) != 0)
		die("not an SSLRequest");
	write_all(cfd, "S", 1);

	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, cfd);
	if (SSL_accept(ssl) != 1)
		die("handshake");

	int up = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(upport)};
	inet_pton(AF_INET, uphost, &ua.sin_addr);
	if (up < 0 || connect(up, (struct sockaddr *)&ua, sizeof ua) != 0)
		die("upstream connect");

	long sent = 0, next = every;
	int count = 0;
	char buf[16384];
	for (;;) {
		struct pollfd p[2] = {{.fd = cfd, .events = POLLIN}, {.fd = up, .events = POLLIN}};
		if (SSL_pending(ssl) > 0)
			p[0].revents = POLLIN;
		else if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents)
			relay_client(ssl, up);
		if (!p[1].revents)
			continue;
		ssize_t n = read(up, buf, sizeof buf);
		if (n <= 0)
			die("upstream closed");
		ssl_write_all(ssl, buf, (size_t)n);
		sent += n;
		if (sent < next)
			continue;
		if (strcmp(mode, "every") == 0) {
			if (max == 0 || count < max)
				renegotiate(ssl, cfd, up, &count);
			next += every;
		} else if (strcmp(mode, "loop") == 0) {
			for (;;)
				renegotiate(ssl, cfd, up, &count);
		} else if (strcmp(mode, "garbage") == 0) {
			if (SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1)
				die("hello request");
			struct pollfd c = {.fd = cfd, .events = POLLIN};
			poll(&c, 1, -1); /* the client's hello: left unread */
			static const char junk[] = "\x16\x03\x03\x00\x10 this is no TLS handshake at all";
			write_all(cfd, junk, sizeof junk - 1);
			fprintf(stderr, "garbage sent\n");
			while (read(cfd, buf, sizeof buf) > 0)
				; /* until the client hangs up */
			die("client closed after garbage");
		} else if (strcmp(mode, "stall") == 0) {
			if (SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1)
				die("hello request");
			struct pollfd c = {.fd = cfd, .events = POLLIN};
			if (poll(&c, 1, -1) != 1 || read(cfd, buf, sizeof buf) <= 0)
				die("no client hello");
			/* The hello is acknowledged now, not after the delayed-ACK
			 * timer: the client then has nothing unacknowledged, so only
			 * keep-alive can tell it the path is gone. */
			int one = 1;
			setsockopt(cfd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
			fprintf(stderr, "stalled in renegotiation\n");
			for (;;)
				pause(); /* until the proxy is killed */
		} else {
			die("unknown mode");
		}
	}
}

int main(int argc, char **argv) {
	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: renegproxy CERT KEY UPHOST UPPORT MODE EVERY MAX [LISTENHOST]\n");
		return 2;
	}
	long every = atol(argv[6]), max = atol(argv[7]);
	if (every <= 0) {
		fprintf(stderr, "renegproxy: EVERY must be > 0\n");
		return 2;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY); /* SSL_read returns after a handshake record */
	SSL_CTX_set_msg_callback(ctx, count_finished);

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in la = {.sin_family = AF_INET};
	socklen_t alen = sizeof la;
	if (inet_pton(AF_INET, argc == 9 ? argv[8] : "127.0.0.1", &la.sin_addr) != 1) {
		fprintf(stderr, "renegproxy: bad LISTENHOST\n");
		return 2;
	}
	if (ls < 0 || bind(ls, (struct sockaddr *)&la, sizeof la) != 0 || listen(ls, 16) != 0 ||
	    getsockname(ls, (struct sockaddr *)&la, &alen) != 0) {
		perror("renegproxy: listen");
		return 1;
	}
	printf("%d\n", ntohs(la.sin_port));
	fflush(stdout);
	signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int cfd = accept(ls, NULL, NULL);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			perror("renegproxy: accept");
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* ends with the proxy */
			if (getppid() == 1)
				_exit(1);
			close(ls);
			int one = 1;
			setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			serve(ctx, cfd, argv[3], atoi(argv[4]), argv[5], every, max);
			_exit(0);
		}
		close(cfd);
	}
}
