/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"
#include "utils.h"

int terminal_connect(const char *path, int *fd, struct skiff_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int s;

	if (strlen(path) >= sizeof(addr.sun_path))
		return error_msg(err, "--console-socket: path `%s` is too long", path);
	strcpy(addr.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return error_errno(err, "--console-socket: socket");
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		error_errno(err, "--console-socket: connect to `%s`", path);
		close(s);
		return -1;
	}
	*fd = s;
	return 0;
}

int terminal_send_master(int sock, int master, struct skiff_error **err)
{
	static const char name[] = "/dev/ptmx";

	if (send_with_fd(sock, name, sizeof(name) - 1, master) < 0)
		return error_errno(err, "send the pty to --console-socket");
	return 0;
}

/* A pty from the devpts at /dev/ptmx (the container's, once in its mount namespace). */
static int open_pty(const struct oci_process *p, int *master_out, int *slave_out, char *name,
                    size_t size, struct skiff_error **err)
{
	cleanup_close int master = -1, slave = -1;
	int unlock = 0, n;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return error_errno(err, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		return error_errno(err, "unlock pty");
	snprintf(name, size, "/dev/pts/%d", n);
	/* TIOCGPTPEER opens the slave through the master: no path to race on. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return error_errno(err, "open %s", name);
	/* The process's own terminal, as runc leaves it: its uid, the group devpts gave it. */
	if (p->user.uid != 0 && fchown(slave, p->user.uid, (gid_t)-1) < 0)
		return error_errno(err, "process.user.uid: chown %s to %u", name,
		                   (unsigned)p->user.uid);
	if (p->console_size) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_size->height,
		                     .ws_col = (unsigned short)p->console_size->width};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return error_errno(err, "process.consoleSize: set window size");
	}
	*master_out = steal_fd(&master);
	*slave_out = steal_fd(&slave);
	return 0;
}

/* The slave becomes the controlling terminal of a new session, and stdio. */
static int attach_slave(int slave, const char *name, struct skiff_error **err)
{
	if (setsid() < 0 && errno != EPERM)
		return error_errno(err, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return error_errno(err, "make %s the controlling terminal", name);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return error_errno(err, "dup %s to fd %d", name, fd);
	return 0;
}

/*
 * /dev/console becomes the slave, as the spec asks: a bind of the slave fd
 * itself onto an O_PATH fd of /dev/console, both pinned before the mount.
 * Mounting by path let a racing container that shares /dev swap either
 * path for a symlink between the check and the mount, so the pty landed
 * on (or a host file was bound from) a place of its choosing
 * (CVE-2025-52565).  Only a plain file or a device is covered; an empty
 * file is made when there is none (as runc), and a symlink is refused.
 */
static int bind_console(int slave, const char *name, struct skiff_error **err)
{
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
	                       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	cleanup_close int dev = -1, dest = -1, tree = -1;
	struct stat st;

	dev = (int)syscall(SYS_openat2, AT_FDCWD, "/dev", &how, sizeof(how));
	if (dev < 0)
		return error_errno(err, "/dev/console: open /dev");
	dest = (int)syscall(SYS_openat2, dev, "console", &how, sizeof(how));
	if (dest < 0 && errno == ENOENT) {
		int c = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
		               0600);
		if (c < 0 && errno != EEXIST)
			return error_errno(err, "/dev/console: create");
		if (c >= 0)
			close(c);
		dest = (int)syscall(SYS_openat2, dev, "console", &how, sizeof(how));
	}
	if (dest < 0 || fstat(dest, &st) < 0)
		return error_errno(err, "/dev/console: open");
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return error_msg(err, "/dev/console: not a file or a device (refusing a %s)",
		                 S_ISLNK(st.st_mode) ? "symlink" : "directory or special file");
	tree = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return error_errno(err, "bind %s on /dev/console", name);
	if (move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return error_errno(err, "bind %s on /dev/console", name);
	return 0;
}

int terminal_setup(const struct oci_process *p, int *master_out, struct skiff_error **err)
{
	cleanup_close int master = -1, slave = -1;
	char name[64];

	if (open_pty(p, &master, &slave, name, sizeof(name), err) < 0)
		return -1;
	if (bind_console(slave, name, err) < 0 || attach_slave(slave, name, err) < 0)
		return -1;
	*master_out = steal_fd(&master);
	return 0;
}

int terminal_setup_exec(const struct oci_process *p, int *master_out, struct skiff_error **err)
{
	cleanup_close int master = -1, slave = -1;
	char name[64];

	if (open_pty(p, &master, &slave, name, sizeof(name), err) < 0 ||
	    attach_slave(slave, name, err) < 0)
		return -1;
	*master_out = steal_fd(&master);
	return 0;
}

static int copy_once(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	return write_all(to, buf, (size_t)n);
}

void terminal_copy_window_size(int master)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/*
 * A signal skiff received while proxying: a resize is the pty's (the kernel
 * then tells the container's foreground group), anything else the process's.
 */
static void relay_signal(int sig_fd, int master, int pidfd)
{
	struct signalfd_siginfo si;

	if (read(sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH)
		terminal_copy_window_size(master);
	else if (si.ssi_signo != SIGCHLD)
		sys_pidfd_signal(pidfd, (int)si.ssi_signo);
}

int terminal_proxy(int master, int pidfd, int sig_fd, struct skiff_error **err)
{
	struct termios saved, raw;
	bool have_tty = tcgetattr(0, &saved) == 0;
	bool stdin_open = true;

	if (have_tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		terminal_copy_window_size(master);
	}
	for (;;) {
		struct pollfd p[4] = {{.fd = master, .events = POLLIN},
		                      {.fd = stdin_open ? 0 : -1, .events = POLLIN},
		                      {.fd = pidfd, .events = POLLIN},
		                      {.fd = sig_fd, .events = POLLIN}};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[3].revents & POLLIN)
			relay_signal(sig_fd, master, pidfd);
		if (p[0].revents & POLLIN) {
			if (copy_once(master, 1) < 0)
				break;
			continue;
		}
		if (p[0].revents & (POLLHUP | POLLERR))
			break;
		if (p[1].revents & (POLLIN | POLLHUP))
			if (copy_once(0, master) < 0)
				stdin_open = false;
		if (p[2].revents & POLLIN) {
			/* The process is gone: drain what it wrote, then stop. */
			int fl = fcntl(master, F_GETFL);
			fcntl(master, F_SETFL, fl | O_NONBLOCK);
			while (copy_once(master, 1) == 0)
				;
			break;
		}
	}
	if (have_tty)
		tcsetattr(0, TCSANOW, &saved);
	(void)err;
	return 0;
}
