/* SPDX-License-Identifier: GPL-2.0 */
/*
 * state.h - the controller's persistent state directory (default
 * /var/lib/bulkhead): what `up` restores after a reboot. The directory is
 * 0700, files are 0600 and are replaced atomically (write a temporary file,
 * fsync, rename, fsync the directory), so a crash leaves the old or the new
 * file, never half of one.
 */
#ifndef BH_STATE_H
#define BH_STATE_H

#include <stddef.h>
#include <linux/types.h>

#include "../bpf/bulkhead_abi.h"

#define BH_STATE_DIR_DEFAULT	"/var/lib/bulkhead"

/* mkdir -p @dir with mode 0700 (and chmod an existing one). 0 or -errno. */
int bh_state_init(const char *dir);
/* Atomically replace @dir/@name with @len bytes. 0 or -errno. */
int bh_state_write(const char *dir, const char *name, const void *buf, size_t len);
/* Read @dir/@name into a NUL-terminated malloc'd buffer. -ENOENT if absent. */
int bh_state_read(const char *dir, const char *name, char **buf, size_t *len);

/*
 * Read @fd to its end, or its first @max bytes, into a new NUL-terminated
 * buffer *@buf of *@len bytes (free it). 0 or -errno.
 */
int bh_read_fd(int fd, size_t max, char **buf, size_t *len);
/*
 * The next line of @buf (@len bytes, from *@pos, which moves past it) into
 * @line (@max bytes, NUL-terminated, without its newline): 1, or 0 at the
 * end, -E2BIG when the line is longer than @max - 1 bytes (not copied),
 * -EINVAL when it holds a NUL byte. Lines of files a device or another
 * program writes (leases, blocklists) are read with it.
 */
int bh_next_line(const char *buf, size_t len, size_t *pos, char *line, size_t max);
/*
 * Room for @need elements of @size bytes in *@v (*@cap of them now): the
 * array grows by doubling, from @first. 0, or -ENOMEM with *@v unchanged.
 */
int bh_grow(void **v, size_t *cap, size_t need, size_t size, size_t first);
/* Write all @len bytes of @buf to @fd (EINTR and short writes retried). 0 or -errno. */
int bh_write_all(int fd, const void *buf, size_t len);
int bh_state_remove(const char *dir, const char *name);

/* The quarantine list, file "quarantine": one line per device. */
#define BH_QUAR_FILE	"quarantine"
struct bh_quar_entry {
	__u8 mac[6];
	__u64 since;		/* CLOCK_REALTIME seconds */
	__u64 until;		/* 0 = until released */
	char reason[256];	/* free text, may be empty */
	__u8 level;		/* BH_QLVL_*: a 5th field "lan", absent for full */
};

int bh_quar_load(const char *dir, struct bh_quar_entry **out, size_t *n);
int bh_quar_save(const char *dir, const struct bh_quar_entry *e, size_t n);

/*
 * Durations of timed quarantines: "30s", "30m", "2h", "1d", or several
 * such parts ("1h30m"). 0 and *secs, or -EINVAL (no unit, unknown unit,
 * zero) or -ERANGE (longer than BH_DURATION_MAX).
 */
#define BH_DURATION_MAX	(10ULL * 366 * 86400)
int bh_duration_parse(const char *s, __u64 *secs);
/* The two largest units, "1d2h", "2h5m", "29m59s", "3s" (0: "0s"). */
void bh_duration_format(__u64 secs, char *buf, size_t len);

/* key=value settings, file "up": mode, policy path, pin dir, ... */
struct bh_kv {
	char key[32];
	char val[4096];
};
int bh_kv_load(const char *dir, const char *name, struct bh_kv **out, size_t *n);
int bh_kv_save(const char *dir, const char *name, const struct bh_kv *kv, size_t n);
const char *bh_kv_get(const struct bh_kv *kv, size_t n, const char *key);

#endif /* BH_STATE_H */
