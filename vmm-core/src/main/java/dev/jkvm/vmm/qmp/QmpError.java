package dev.jkvm.vmm.qmp;

/**
 * A command's failure as QMP reports it: {@code {"error": {"class": ..., "desc": ...}}} with one
 * of QEMU's error classes.
 */
final class QmpError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** QEMU's error classes (qapi/error.json's QapiErrorClass). */
    enum ErrorClass { GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap }

    private final ErrorClass errorClass;

    QmpError(ErrorClass errorClass, String desc) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
    }

    static QmpError generic(String desc) {
        return new QmpError(ErrorClass.GenericError, desc);
    }

    ErrorClass errorClass() {
        return errorClass;
    }
}
