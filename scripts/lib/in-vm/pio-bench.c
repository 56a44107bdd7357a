/* pio-bench: cost of one port-I/O exit round trip through /dev/kvm.
 *
 * A one-page real-mode guest loops on `out dx, al`; each KVM_RUN returns with
 * KVM_EXIT_IO and we re-enter at once, so N runs time N guest->host->guest
 * round trips with nothing else in them.  Used by docs/in-vm.md to compare
 * this host's KVM with the KVM inside scripts/in-vm's nested VM.
 *   cc -O2 -o pio-bench scripts/lib/in-vm/pio-bench.c && ./pio-bench [N]
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

static int fail(const char *what) { perror(what); return 1; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    /* 0x1000: mov dx, 0x10 / out dx, al / jmp back to the out */
    static const unsigned char code[] = {0xba, 0x10, 0x00, 0xee, 0xeb, 0xfd};
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) return fail("/dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) return fail("KVM_CREATE_VM");
    unsigned char *mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memcpy(mem + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = 0x2000, .userspace_addr = (unsigned long) mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) return fail("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) return fail("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");

    double start = 0;
    long warmup = n / 10;
    for (long i = 0; i < warmup + n; i++) {
        if (i == warmup) start = now();
        if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
        if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10) {
            fprintf(stderr, "pio-bench: unexpected exit %u\n", run->exit_reason);
            return 1;
        }
    }
    double elapsed = now() - start;
    printf("pio-bench: %ld port-I/O exits in %.3f s: %.2f us per round trip\n", n, elapsed, elapsed / n * 1e6);
    return 0;
}
