"""The seccomp agent's side of SCMP_ACT_NOTIFY: receive a notification, answer it."""
import ctypes
import struct

# struct seccomp_notif (80 bytes) and seccomp_notif_resp (24 bytes); ioctl numbers are
# _IOWR('!', 0/1, size).
NOTIF_RECV = (3 << 30) | (80 << 16) | (ord("!") << 8) | 0
NOTIF_SEND = (3 << 30) | (24 << 16) | (ord("!") << 8) | 1
SYS_MKDIR = 83  # x86_64
libc = ctypes.CDLL(None, use_errno=True)


def notif_recv(fd):
    """Blocks until a notified syscall arrives; returns (id, pid, syscall number)."""
    buf = ctypes.create_string_buffer(80)  # zeroed, as the kernel demands
    if libc.ioctl(fd, NOTIF_RECV, buf) < 0:
        raise OSError(ctypes.get_errno(), "SECCOMP_IOCTL_NOTIF_RECV")
    nid, pid, _flags, nr = struct.unpack_from("=QIIi", buf.raw)
    return nid, pid, nr


def notif_send(fd, nid, val, error):
    """Answers notification nid: the syscall returns val, or fails with -error."""
    buf = ctypes.create_string_buffer(struct.pack("=Qqii", nid, val, error, 0))
    if libc.ioctl(fd, NOTIF_SEND, buf) < 0:
        raise OSError(ctypes.get_errno(), "SECCOMP_IOCTL_NOTIF_SEND")
