/* PID 1 of the test VM, started by tests/vm/init after switch_root.
 *
 * usage: reaper OUT-PORT STATUS-PORT PROGRAM [ARGS...]
 *
 * Runs PROGRAM with stdout and stderr on OUT-PORT (a virtio serial port that
 * the host saves to a file) and stdin on /dev/null, reaps every process that
 * gets reparented to it meanwhile (so an exited container process never
 * lingers as a zombie that still looks alive), writes PROGRAM's exit status
 * ("exit N", 128+signal for a signal) to STATUS-PORT, and reboots; qemu runs
 * with -no-reboot, so the reboot ends qemu.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static void finish(const char *status_port, int code)
{
	char buf[32];
	int fd = open(status_port, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int n = snprintf(buf, sizeof buf, "exit %d\n", code);

	if (fd >= 0) {
		if (write(fd, buf, (size_t)n) != n)
			perror("reaper: status");
		close(fd);
	} else {
		perror("reaper: status port");
	}
	kill(-1, SIGKILL);
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	static char *envp[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    "HOME=/root",
	    "TERM=dumb",
	    "LANG=C.UTF-8",
	    "SKIFF_IN_VM=1",
	    NULL,
	};
	pid_t child;
	int status;

	if (argc < 4) {
		fprintf(stderr, "usage: reaper OUT-PORT STATUS-PORT PROGRAM [ARGS...]\n");
		return 2;
	}
	child = fork();
	if (child < 0) {
		perror("reaper: fork");
		finish(argv[2], 125);
	}
	if (child == 0) {
		int out = open(argv[1], O_WRONLY | O_NOCTTY);
		int null = open("/dev/null", O_RDONLY);

		if (out < 0 || null < 0) {
			perror("reaper: open");
			_exit(125);
		}
		setsid();
		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		if (out > 2)
			close(out);
		if (null > 2)
			close(null);
		execve(argv[3], argv + 3, envp);
		fprintf(stderr, "reaper: exec %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t p = wait(&status);

		if (p == child)
			break;
		if (p < 0 && errno == ECHILD) {
			status = 125 << 8;
			break;
		}
	}
	if (WIFEXITED(status))
		finish(argv[2], WEXITSTATUS(status));
	finish(argv[2], 128 + WTERMSIG(status));
	return 0;
}
