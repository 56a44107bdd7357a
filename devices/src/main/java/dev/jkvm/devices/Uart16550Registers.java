package dev.jkvm.devices;

/**
 * The register offsets of a {@link Uart16550} and the bits of each register, with the names of
 * the PC16550D data sheet (Linux's {@code serial_reg.h} spells most of them the same).
 */
final class Uart16550Registers {

    private Uart16550Registers() {
    }

    // Registers (offset from base).
    static final int REG_DATA = 0;
    static final int REG_IER = 1;
    static final int REG_IIR_FCR = 2;
    static final int REG_LCR = 3;
    static final int REG_MCR = 4;
    static final int REG_LSR = 5;
    static final int REG_MSR = 6;
    static final int REG_SCR = 7;

    // IER bits.
    static final int IER_ERBFI = 0x01;
    static final int IER_ETBEI = 0x02;
    static final int IER_ELSI = 0x04;
    static final int IER_EDSSI = 0x08;

    // IIR values.
    static final int IIR_NO_INT = 0x01;
    static final int IIR_MSI = 0x00;
    static final int IIR_THRI = 0x02;
    static final int IIR_RDI = 0x04;
    static final int IIR_RLSI = 0x06;
    static final int IIR_CTI = 0x0c;
    static final int IIR_ID_MASK = 0x0f;
    static final int IIR_FIFOS_ENABLED = 0xc0;

    // FCR bits.
    static final int FCR_ENABLE = 0x01;
    static final int FCR_RX_RESET = 0x02;
    static final int FCR_STORED = 0xc9; // enable, DMA mode, trigger level

    // LCR bits.
    static final int LCR_DLAB = 0x80;

    // MCR bits.
    static final int MCR_DTR = 0x01;
    static final int MCR_RTS = 0x02;
    static final int MCR_OUT1 = 0x04;
    static final int MCR_OUT2 = 0x08;
    static final int MCR_LOOP = 0x10;
    static final int MCR_WRITABLE = 0x1f;

    // LSR bits.
    static final int LSR_DR = 0x01;
    static final int LSR_OE = 0x02;
    static final int LSR_PE = 0x04;
    static final int LSR_FE = 0x08;
    static final int LSR_BI = 0x10;
    static final int LSR_THRE = 0x20;
    static final int LSR_TEMT = 0x40;
    static final int LSR_RX_FIFO_ERROR = 0x80;
    static final int LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

    // MSR bits.
    static final int MSR_DCTS = 0x01;
    static final int MSR_DDSR = 0x02;
    static final int MSR_TERI = 0x04;
    static final int MSR_DDCD = 0x08;
    static final int MSR_DELTAS = 0x0f;
    static final int MSR_CTS = 0x10;
    static final int MSR_DSR = 0x20;
    static final int MSR_RI = 0x40;
    static final int MSR_DCD = 0x80;
    static final int MSR_INPUTS = 0xf0;
}
