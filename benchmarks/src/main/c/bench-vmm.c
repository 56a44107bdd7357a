/*
 * bench-vmm.c - the C baseline of jkvm's benchmarks: the smallest VMM that runs the same ROM
 * guests as jkvm, laid out exactly as jkvm lays them out, so that the difference between the two
 * is what jkvm (Java, FFM, its run loop and buses) adds.
 *
 * What it mirrors from jkvm (vmm-core: Machine, VmSession, GuestMemory, MemoryMap.pc):
 *   - one /dev/kvm descriptor for the whole process (jkvm's SharedKvm);
 *   - KVM_SET_TSS_ADDR 0xfeffd000 and KVM_SET_IDENTITY_MAP_ADDR 0xfeffc000;
 *   - RAM as anonymous MAP_NORESERVE mappings with MADV_HUGEPAGE: slot 0 = 0..0xA0000,
 *     slot 1 = 1 MiB..size; the ROM in a private mapping at 4 GiB - size (slot 2, read-only) and
 *     its last min(size, 128 KiB) again ending at 1 MiB (slot 3, read-only);
 *   - memory slots before the in-kernel irqchip and PIT (when asked for);
 *   - every vCPU gets KVM's supported CPUID (jkvm gives a filtered qemu64 model: the same ioctl);
 *   - the vCPU starts in KVM's reset state (CS base 0xFFFF0000, IP 0xFFF0): no register is set;
 *   - unclaimed ports read as all ones and swallow writes, unclaimed MMIO likewise;
 *   - a write to port 0xf4 (isa-debug-exit) ends the run.
 * What it leaves out: threads (the vCPU runs on the main thread), devices, firmware tables,
 * statistics descriptors, signal masks: a minimal C VMM.
 *
 * Usage (every command prints one line of key=value pairs, for the Java harness):
 *   bench-vmm exits ROM CASE N IRQCHIP     one run of bench-exits.rom (see its source for cases)
 *   bench-vmm lifecycle ROM COUNT MEM      COUNT times: VM + MEM bytes RAM + 1 vCPU, run to HLT, destroy
 *   bench-vmm twin ROM COUNT MEM           the same, with every system call jkvm's smallest machine makes
 *                                          (strace of Machine.create/run/close, kernel-irqchip=off): the CPUID
 *                                          read back, a vCPU thread with its signal mask, its /proc times read
 *   bench-vmm vcpus ROM N COUNT MEM        COUNT times: VM + irqchip + PIT + N vCPUs, destroy
 *   bench-vmm spawn CMD [ARG...]           run CMD (stdout/stderr to /dev/null): wall time, peak RSS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define FOUR_GIB (4096 * MIB)
#define LOW_RAM_END 0xA0000ULL
#define ISA_BIOS_MAX (128 * KIB)
#define TSS_ADDRESS 0xfeffd000ULL
#define IDENTITY_MAP_ADDRESS 0xfeffc000ULL
#define DEBUG_EXIT_PORT 0xf4

/* bench-exits.rom's parameter block in RAM */
#define PARAM_CASE 0x8000
#define PARAM_N 0x8004
#define RESULT_TSC 0x8010
#define RESULT_DONE 0x8018
#define DONE_MAGIC 0x600dd00eU

static int kvm_fd = -1;
static struct kvm_cpuid2 *supported_cpuid;
static int run_size;

static void die(const char *what) {
    fprintf(stderr, "bench-vmm: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void open_kvm(void) {
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) die("open /dev/kvm");
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
    int nent = 256;
    supported_cpuid = calloc(1, sizeof(*supported_cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
    supported_cpuid->nent = nent;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, supported_cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
}

/* A ROM image, read from its file each time a VM is made (as jkvm's Firmware.file does). */
struct rom {
    uint8_t *bytes;
    size_t size;
};

static struct rom read_rom(const char *path) {
    struct rom r = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    struct stat st;
    if (fstat(fd, &st) < 0) die("fstat");
    r.size = (size_t) st.st_size;
    r.bytes = malloc(r.size);
    size_t done = 0;
    while (done < r.size) {
        ssize_t n = read(fd, r.bytes + done, r.size - done);
        if (n <= 0) die("read ROM");
        done += (size_t) n;
    }
    close(fd);
    return r;
}

/* One VM: its descriptor, mappings and vCPUs. */
struct vm {
    int fd;
    uint8_t *ram_low;   /* 0 .. 0xA0000 */
    uint8_t *ram;       /* 1 MiB .. mem */
    size_t ram_size;
    uint8_t *rom;
    size_t rom_size;
    int ncpus;
    int *vcpu_fd;
    struct kvm_run **run;
};

static void *map_anon(size_t size, int huge) {
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) die("mmap");
    if (huge) madvise(m, size, MADV_HUGEPAGE); /* advice only */
    return m;
}

static void set_slot(struct vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa, void *host, uint64_t size) {
    struct kvm_userspace_memory_region r = {
        .slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
        .userspace_addr = (uint64_t) (uintptr_t) host,
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) die("KVM_SET_USER_MEMORY_REGION");
}

static void vm_create(struct vm *vm, const char *rom_path, uint64_t mem, int ncpus, int irqchip) {
    memset(vm, 0, sizeof(*vm));
    struct rom rom = read_rom(rom_path);
    vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm->fd < 0) die("KVM_CREATE_VM");
    if (ioctl(vm->fd, KVM_SET_TSS_ADDR, TSS_ADDRESS) < 0) die("KVM_SET_TSS_ADDR");
    if (ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t a = IDENTITY_MAP_ADDRESS;
        if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &a) < 0) die("KVM_SET_IDENTITY_MAP_ADDR");
    }
    /* Memory first, as jkvm does: slot changes after the irqchip exists are much slower. */
    vm->ram_low = map_anon(LOW_RAM_END, 1);
    vm->ram_size = mem - MIB;
    vm->ram = map_anon(vm->ram_size, 1);
    vm->rom_size = (rom.size + 4095) & ~4095ULL;
    vm->rom = map_anon(vm->rom_size, 0);
    memcpy(vm->rom + vm->rom_size - rom.size, rom.bytes, rom.size);
    free(rom.bytes);
    uint32_t ro = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0 ? KVM_MEM_READONLY : 0;
    size_t isa = vm->rom_size < ISA_BIOS_MAX ? vm->rom_size : ISA_BIOS_MAX;
    set_slot(vm, 0, 0, 0, vm->ram_low, LOW_RAM_END);
    set_slot(vm, 1, 0, MIB, vm->ram, vm->ram_size);
    set_slot(vm, 2, ro, FOUR_GIB - vm->rom_size, vm->rom, vm->rom_size);
    set_slot(vm, 3, ro, MIB - isa, vm->rom + vm->rom_size - isa, isa);
    if (irqchip) {
        if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
        struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
        if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) die("KVM_CREATE_PIT2");
    }
    vm->ncpus = ncpus;
    vm->vcpu_fd = calloc((size_t) ncpus, sizeof(int));
    vm->run = calloc((size_t) ncpus, sizeof(struct kvm_run *));
    for (int i = 0; i < ncpus; i++) {
        vm->vcpu_fd[i] = ioctl(vm->fd, KVM_CREATE_VCPU, i);
        if (vm->vcpu_fd[i] < 0) die("KVM_CREATE_VCPU");
        vm->run[i] = mmap(NULL, (size_t) run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd[i], 0);
        if (vm->run[i] == MAP_FAILED) die("mmap kvm_run");
        if (ioctl(vm->vcpu_fd[i], KVM_SET_CPUID2, supported_cpuid) < 0) die("KVM_SET_CPUID2");
    }
}

static void vm_destroy(struct vm *vm) {
    for (int i = 0; i < vm->ncpus; i++) {
        munmap(vm->run[i], (size_t) run_size);
        close(vm->vcpu_fd[i]);
    }
    free(vm->vcpu_fd);
    free(vm->run);
    close(vm->fd);
    munmap(vm->ram_low, LOW_RAM_END);
    munmap(vm->ram, vm->ram_size);
    munmap(vm->rom, vm->rom_size);
}

/* The guest-physical RAM byte at gpa (below 640 KiB). */
static uint8_t *low(struct vm *vm, uint64_t gpa) {
    return vm->ram_low + gpa;
}

/* Unclaimed I/O: reads as all ones, writes vanish. Returns 1 when the guest asked to end. */
static int handle_io(struct kvm_run *run) {
    uint8_t *data = (uint8_t *) run + run->io.data_offset;
    if (run->io.direction == KVM_EXIT_IO_OUT) {
        return run->io.port == DEBUG_EXIT_PORT;
    }
    memset(data, 0xff, (size_t) run->io.size * run->io.count);
    return 0;
}

static void handle_mmio(struct kvm_run *run) {
    if (!run->mmio.is_write) {
        memset(run->mmio.data, 0xff, run->mmio.len);
    }
}

/* Runs vCPU 0 until the guest writes to port 0xf4 (or halts, when halt_ends). Returns the exits seen. */
static uint64_t run_vcpu(struct vm *vm, int halt_ends) {
    int fd = vm->vcpu_fd[0];
    struct kvm_run *run = vm->run[0];
    uint64_t exits = 0;
    for (;;) {
        if (ioctl(fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            die("KVM_RUN");
        }
        exits++;
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (handle_io(run)) return exits;
            break;
        case KVM_EXIT_MMIO:
            handle_mmio(run);
            break;
        case KVM_EXIT_HLT:
            if (halt_ends) return exits;
            break;
        case KVM_EXIT_INTR:
            break;
        default:
            fprintf(stderr, "bench-vmm: unexpected exit reason %u\n", run->exit_reason);
            exit(2);
        }
    }
}

static int cmd_exits(const char *rom, int kase, uint32_t n, int irqchip) {
    struct vm vm;
    vm_create(&vm, rom, 2 * MIB, 1, irqchip);
    memcpy(low(&vm, PARAM_CASE), &kase, 4);
    memcpy(low(&vm, PARAM_N), &n, 4);
    int tsc_khz = ioctl(vm.vcpu_fd[0], KVM_GET_TSC_KHZ, 0);
    uint64_t t0 = now_ns();
    uint64_t exits = run_vcpu(&vm, 0);
    uint64_t t1 = now_ns();
    uint32_t done;
    uint64_t cycles;
    memcpy(&done, low(&vm, RESULT_DONE), 4);
    memcpy(&cycles, low(&vm, RESULT_TSC), 8);
    if (done != DONE_MAGIC) {
        fprintf(stderr, "bench-vmm: the guest did not finish case %d\n", kase);
        return 2;
    }
    printf("case=%d n=%u cycles=%llu tsc_khz=%d wall_ns=%llu exits=%llu\n", kase, n,
           (unsigned long long) cycles, tsc_khz, (unsigned long long) (t1 - t0), (unsigned long long) exits);
    vm_destroy(&vm);
    return 0;
}

static int cmd_lifecycle(const char *rom, int count, uint64_t mem) {
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        struct vm vm;
        vm_create(&vm, rom, mem, 1, 0);
        run_vcpu(&vm, 1);
        vm_destroy(&vm);
    }
    uint64_t t1 = now_ns();
    printf("count=%d total_ns=%llu\n", count, (unsigned long long) (t1 - t0));
    return 0;
}

/* The twin's vCPU thread, as jkvm's "CPU 0/KVM": its signal mask for kicks, its times from /proc. */
struct twin_thread {
    struct vm *vm;
    uint64_t exits;
};

static void read_task_stat(void) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int) gettid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    if (read(fd, buf, sizeof buf) < 0) die("read stat");
    close(fd);
}

static void *twin_vcpu(void *arg) {
    struct twin_thread *t = arg;
    sigset_t kick, old;
    sigemptyset(&kick);
    sigaddset(&kick, SIGRTMIN + 1);
    pthread_sigmask(SIG_BLOCK, &kick, &old);
    struct kvm_signal_mask *mask = calloc(1, sizeof(*mask) + 8);
    mask->len = 8;
    memcpy(mask->sigset, &old, 8);
    if (ioctl(t->vm->vcpu_fd[0], KVM_SET_SIGNAL_MASK, mask) < 0) die("KVM_SET_SIGNAL_MASK");
    free(mask);
    t->exits = run_vcpu(t->vm, 1);
    read_task_stat();
    return NULL;
}

static int cmd_twin(const char *rom, int count, uint64_t mem) {
    /* jkvm gives the vCPU its model's leaves (18 for qemu64 here), not all KVM supports. */
    struct kvm_cpuid2 *readback = calloc(1, sizeof(*readback) + 256 * sizeof(struct kvm_cpuid_entry2));
    uint32_t nent = supported_cpuid->nent;
    uint64_t create_ns = 0, run_ns = 0, destroy_ns = 0;
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        struct vm vm;
        uint64_t a = now_ns();
        supported_cpuid->nent = nent < 18 ? nent : 18;
        vm_create(&vm, rom, mem, 1, 0);
        supported_cpuid->nent = nent;
        readback->nent = 256;
        if (ioctl(vm.vcpu_fd[0], KVM_GET_CPUID2, readback) < 0) die("KVM_GET_CPUID2");
        uint64_t b = now_ns();
        struct twin_thread t = {.vm = &vm};
        pthread_t thread;
        if (pthread_create(&thread, NULL, twin_vcpu, &t) != 0) die("pthread_create");
        pthread_join(thread, NULL);
        uint64_t c = now_ns();
        vm_destroy(&vm);
        uint64_t d = now_ns();
        create_ns += b - a;
        run_ns += c - b;
        destroy_ns += d - c;
    }
    uint64_t t1 = now_ns();
    free(readback);
    /* the phases as jkvm's are timed (Machine.create, run, close), for the lifecycle section of docs/benchmarks.md */
    printf("count=%d total_ns=%llu create_ns=%llu run_ns=%llu destroy_ns=%llu\n", count, (unsigned long long) (t1 - t0),
           (unsigned long long) create_ns, (unsigned long long) run_ns, (unsigned long long) destroy_ns);
    return 0;
}

static int cmd_vcpus(const char *rom, int n, int count, uint64_t mem) {
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        struct vm vm;
        vm_create(&vm, rom, mem, n, 1);
        vm_destroy(&vm);
    }
    uint64_t t1 = now_ns();
    printf("vcpus=%d count=%d total_ns=%llu\n", n, count, (unsigned long long) (t1 - t0));
    return 0;
}

static int cmd_spawn(char **argv) {
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) die("wait4");
    uint64_t t1 = now_ns();
    printf("wall_ns=%llu maxrss_kib=%ld status=%d\n", (unsigned long long) (t1 - t0), ru.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: bench-vmm exits ROM CASE N IRQCHIP | lifecycle ROM COUNT MEM | twin ROM COUNT MEM"
                    " | vcpus ROM N COUNT MEM | spawn CMD [ARG...]\n");
    exit(1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) usage();
    if (strcmp(argv[1], "spawn") == 0 && argc >= 3) return cmd_spawn(argv + 2);
    open_kvm();
    if (strcmp(argv[1], "exits") == 0 && argc == 6)
        return cmd_exits(argv[2], atoi(argv[3]), (uint32_t) strtoul(argv[4], NULL, 0), atoi(argv[5]));
    if (strcmp(argv[1], "lifecycle") == 0 && argc == 5)
        return cmd_lifecycle(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0));
    if (strcmp(argv[1], "twin") == 0 && argc == 5)
        return cmd_twin(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0));
    if (strcmp(argv[1], "vcpus") == 0 && argc == 6)
        return cmd_vcpus(argv[2], atoi(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 0));
    usage();
    return 1;
}
