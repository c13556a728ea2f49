import Glibc

/// A file-system errno in plain words, for "cannot write the record to FILE: <reason>".
enum FileProblem {
    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "the disk is full (no space left on the device)"
        case EDQUOT: return "the disk quota is used up"
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "the file system is read-only"
        case EISDIR: return "it is a folder"
        case ENOENT: return "no such file or folder"
        case ENOTDIR: return "a part of the path is not a folder"
        case ENAMETOOLONG: return "the name is too long"
        case ELOOP: return "too many symbolic links in the path"
        case EFBIG: return "the file would be too large for this file system"
        case EIO: return "an input/output error on the device"
        case EMFILE, ENFILE: return "no file descriptor left (the open-file limit)"
        case ETXTBSY: return "it is a program being run"
        default: return String(cString: strerror(code))
        }
    }
}
