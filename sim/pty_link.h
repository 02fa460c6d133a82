// pty_link.h: a host program's serial port for the board harnesses, and the
// UART line encoding and record lengths they share
// (examples/fpga/icebreaker/sim_decoder.cpp, sim_probe.cpp, +pty=FILE): a
// pseudo-terminal whose slave side the host opens as it opens the board's
// UART (lgtok.py --port DEV), and whose master side the harness reads the
// host's bytes from (onto the simulated UART line) and writes the core's
// records to.
#ifndef LG_SIM_PTY_LINK_H
#define LG_SIM_PTY_LINK_H

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <string>
#include <termios.h>
#include <thread>
#include <unistd.h>
#include <vector>

// One byte as a UART line carries it (8N1, LSB first), cpb cycles per bit,
// appended to a line of per-cycle levels.
static inline void uart_line_byte(std::deque<int> &line, uint8_t b, int cpb)
{
    for (int c = 0; c < cpb; c++)
        line.push_back(0);
    for (int k = 0; k < 8; k++)
        for (int c = 0; c < cpb; c++)
            line.push_back((b >> k) & 1);
    for (int c = 0; c < cpb; c++)
        line.push_back(1);
}

// Bytes of the FPGA -> host record that starts with byte r (docs/fpga.md,
// "Host protocol": 'I' 9, 'T' and 'E' 4, 'A' 1; any other byte stands alone)
static inline size_t uart_record_len(uint8_t r)
{
    return r == 'I' ? 9 : (r == 'T' || r == 'E') ? 4 : 1;
}

// The pseudo-terminal's master side, non-blocking; the slave stays open here
// too (raw), so that the master never reads a hang-up between two host
// programs. open_pty writes the slave's device name to name_file (whole:
// through a rename), where the host's caller waits for it; the file goes
// when the link does.
struct PtyLink {
    int fd = -1, slave = -1;
    std::deque<uint8_t> out; // records not yet written to the host
    std::string named;       // the file naming the device (removed at the end)

    bool open_pty(const std::string &name_file)
    {
        fd = posix_openpt(O_RDWR | O_NOCTTY);
        if (fd < 0 || grantpt(fd) || unlockpt(fd)) {
            std::printf("pty_link: no pseudo-terminal: %s\n", std::strerror(errno));
            return false;
        }
        const char *name = ptsname(fd);
        slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
        struct termios t;
        if (slave < 0 || tcgetattr(slave, &t)) {
            std::printf("pty_link: cannot open the pseudo-terminal's slave side\n");
            return false;
        }
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        std::string tmp = name_file + ".tmp";
        FILE *f = std::fopen(tmp.c_str(), "w");
        if (!f || std::fprintf(f, "%s\n", name) < 0 || std::fclose(f) ||
            std::rename(tmp.c_str(), name_file.c_str())) {
            std::printf("pty_link: cannot write %s\n", name_file.c_str());
            return false;
        }
        named = name_file;
        std::printf("pty_link: host port %s (named in %s)\n", name, name_file.c_str());
        std::fflush(stdout);
        return true;
    }

    // bytes the host wrote (none: an empty vector)
    std::vector<uint8_t> poll_in()
    {
        uint8_t buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        return n > 0 ? std::vector<uint8_t>(buf, buf + n) : std::vector<uint8_t>();
    }

    void flush_out()
    {
        while (!out.empty()) {
            uint8_t buf[256];
            size_t n = 0;
            for (; n < sizeof buf && n < out.size(); n++)
                buf[n] = out[n];
            ssize_t w = write(fd, buf, n);
            if (w <= 0)
                return; // (the host reads later)
            out.erase(out.begin(), out.begin() + w);
        }
    }

    // the last records to the host before the harness ends: written within
    // s seconds (the host reading them), else false
    bool drain(double s)
    {
        auto t0 = std::chrono::steady_clock::now();
        while (!out.empty() && std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                             t0).count() < s) {
            flush_out();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        tcdrain(fd);
        return out.empty();
    }

    ~PtyLink()
    {
        if (!named.empty())
            std::remove(named.c_str()); // (a later session names its own)
        if (slave >= 0)
            close(slave);
        if (fd >= 0)
            close(fd);
    }
};

#endif
