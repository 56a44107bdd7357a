/**
 * The GDB remote stub ({@code -gdb}, {@code -s}, {@code -S}), in four layers; each talks only to
 * its neighbours.
 *
 * <ol>
 * <li><b>Wire</b>: bytes to and from the debugger. {@link dev.jkvm.vmm.gdb.GdbEndpoint} parses
 *     where to listen; {@link dev.jkvm.vmm.gdb.GdbServer} accepts one connection at a time
 *     ({@link dev.jkvm.vmm.gdb.Connection} over a TCP or Unix socket channel);
 *     {@link dev.jkvm.vmm.gdb.FrameDecoder} cuts what arrives into {@link dev.jkvm.vmm.gdb.Frame}s
 *     (checksums, run-length decoding, bounded size), {@link dev.jkvm.vmm.gdb.Framing} frames and
 *     escapes what goes out, {@link dev.jkvm.vmm.gdb.Hex} spells numbers and bytes.</li>
 * <li><b>Session</b>: {@link dev.jkvm.vmm.gdb.GdbSession}, on the session thread, owns one
 *     connection: acks, the stopped/running state of all-stop debugging, stop replies
 *     ({@link dev.jkvm.vmm.gdb.StopEvent}, {@link dev.jkvm.vmm.gdb.StopReason}), and leaving the
 *     guest as it was found. Its reader thread and the vCPUs feed it through one queue of
 *     {@link dev.jkvm.vmm.gdb.SessionInput}s, so the debugging state needs no lock.</li>
 * <li><b>Commands</b>: {@link dev.jkvm.vmm.gdb.CommandHandler} answers the packets of a stopped
 *     target and returns an {@link dev.jkvm.vmm.gdb.Outcome} (reply, resume, end). It reads and
 *     writes registers through {@link dev.jkvm.vmm.gdb.RegisterLayout} (one table for the
 *     {@code g} packet and {@link dev.jkvm.vmm.gdb.TargetDescription}'s XML;
 *     {@link dev.jkvm.vmm.gdb.CpuRegisters}, {@link dev.jkvm.vmm.gdb.EditableCpu},
 *     {@link dev.jkvm.vmm.gdb.FpuState}), memory through {@link dev.jkvm.vmm.gdb.MemoryAccess}
 *     (virtual or physical), and keeps the breakpoints: {@link dev.jkvm.vmm.gdb.SoftwareBreakpoints}
 *     (int3, masked from reads), {@link dev.jkvm.vmm.gdb.HardwareBreakpoints} (DR0-3/DR7, by
 *     {@link dev.jkvm.vmm.gdb.BreakpointKind}) and {@link dev.jkvm.vmm.gdb.WatchEmulation}
 *     (write watchpoints by single-stepping where KVM ignores data breakpoints).</li>
 * <li><b>KVM side</b>: {@link dev.jkvm.vmm.gdb.GdbStub} is the vCPU run loop's
 *     {@link dev.jkvm.vmm.vcpu.DebugHook}: {@link dev.jkvm.vmm.gdb.AllStopGate} holds every vCPU at
 *     its checkpoint before {@code KVM_RUN}; {@link dev.jkvm.vmm.gdb.ArmedState} (frozen at each
 *     resume) tells the debugger's #BP/#DB exits and emulation failures from the guest's own;
 *     {@link dev.jkvm.vmm.gdb.GuestDebug} is what {@code KVM_SET_GUEST_DEBUG} gets.
 *     {@link dev.jkvm.vmm.gdb.DebugTarget} is all the stub asks of a machine
 *     ({@link dev.jkvm.vmm.gdb.MachineDebugTarget} implements it over the vCPU descriptors and the
 *     machine's {@link dev.jkvm.vmm.memory.GuestView}, tests over arrays); {@link dev.jkvm.vmm.gdb.GuestDebugProbe} measures once what this host's KVM
 *     really stops on, for the notes a debugger gets at attach.</li>
 * </ol>
 *
 * <p>Threads: vCPU threads call only the stub; the session thread is the only one that writes to
 * the socket or changes the debugging state; the accept and reader threads only hand over input.
 */
package dev.jkvm.vmm.gdb;
