/* sslkeylog.c
 * An LD_PRELOAD helper that makes an OpenSSL program (spice-gtk, QEMU's
 * spice-server) write the TLS secrets of its sessions to $SSLKEYLOGFILE in
 * the NSS key log format Wireshark reads (tls.keylog_file). OpenSSL writes
 * no key log by itself; it only offers SSL_CTX_set_keylog_callback().
 *
 * Every SSL_new() is interposed: the context of each new connection gets the
 * callback before the handshake starts, whoever created the context.
 *
 * Build: gcc -shared -fPIC -o sslkeylog.so sslkeylog.c -ldl -lssl
 * Use:   SSLKEYLOGFILE=keys.txt LD_PRELOAD=./sslkeylog.so program
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

static void
append_key_log_line(const SSL *ssl, const char *line)
{
    const char *path = getenv("SSLKEYLOGFILE");
    size_t len = strlen(line);
    char *record;
    int fd;

    (void)ssl;
    if (!path || !*path)
        return;
    /* One write() of the line and its newline: O_APPEND keeps lines from
     * several threads or processes whole. */
    record = malloc(len + 1);
    if (!record)
        return;
    memcpy(record, line, len);
    record[len] = '\n';
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, record, len + 1) != (ssize_t)(len + 1)) {
            /* Nothing sensible to do inside a TLS library callback. */
        }
        close(fd);
    }
    free(record);
}

SSL *
SSL_new(SSL_CTX *ctx)
{
    static SSL *(*real_ssl_new)(SSL_CTX *);

    if (!real_ssl_new)
        real_ssl_new = (SSL *(*)(SSL_CTX *))dlsym(RTLD_NEXT, "SSL_new");
    if (!real_ssl_new)
        return NULL;
    if (ctx)
        SSL_CTX_set_keylog_callback(ctx, append_key_log_line);
    return real_ssl_new(ctx);
}
