// tb_uart: UART receiver / transmitter and the host token protocol
// (lg_uart_rx, lg_uart_tx, lg_uart_tokens; protocol in docs/fpga.md).
//
// The model (tb_uart_top, tests/hdl/gen_fpga_units.c, parameters in
// tb_uart_cfg.h) is a loopback: host_tx -> line -> rx -> tokens -> tx ->
// line -> host_rx, the two lines passing through the bench, plus rx2, a
// receiver at another rate that the bench drives bit by bit. A C++ stand-in
// for the decoder (Core below) answers ctl_start / the prompt with
// deterministic token ids, so every record is known in advance.
//
// Checks:
//  - both lines bit-exact: each frame's start, data and stop bits last
//    exactly CPB cycles, and the bytes decoded from the lines are the bytes
//    handed to the transmitters (and, host side, what host_rx delivered);
//  - 'I' info record; junk bytes outside a frame ignored;
//  - a good frame: 'A', one 'T' per generated id, 'E' with the count; the
//    core saw ctl_inv_temp / the seed (four ctl_seed_we bytes shifted in as
//    the sampler does, none while the core is busy) / ctl_n_gen of the frame and the prompt
//    in order with m_tok_last on the last id;
//  - rejects: bad checksum, n_prompt 0 and > max_prompt (the ids skipped),
//    a frame during a run (status 4 while the run goes on), a stalled frame
//    (timeout); none of them starts the core;
//  - st_err_image: every frame rejected with status 64 (a bad checksum still
//    reported as such), the core never started; a run during which it rises
//    ends with it in its 'E' status;
//  - an id >= 2^TOK_W saturated (the core reports st_err_token), n_gen
//    0xffff saturated to 2^POS_W - 1 and a run ending at seq_len (st_err_pos);
//  - random frames with random byte gaps and random core timing;
//  - rx2: rate errors of -3 % and +3 %, a glitch (no byte), a framing error
//    (one err_frame, then normal bytes), a long break (one err_frame), an
//    overrun (err_overrun, the first byte kept), the receive latency the
//    header states.
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "tb_uart_cfg.h"
#include "testb.h"

#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <vector>

typedef TESTB<Vdut> TB;

static std::mt19937_64 rng;
static int errors = 0;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 30) {                                                             \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                           \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

static const int CPB = (TBU_CLK_HZ + TBU_BAUD / 2) / TBU_BAUD;
static const int CPB2 = (TBU2_CLK_HZ + TBU_BAUD / 2) / TBU_BAUD;
static const int MAXP = 1 << TBU_PROMPT_AW;
static const uint32_t TOKMAX = (1u << TBU_TOK_W) - 1;

// ---- a line monitor: decodes 8N1 frames and checks every bit's length ---------

struct LineMon {
    const char *name;
    int state = 0;       // 0 idle, 1 in a frame
    uint64_t start = 0;  // cycle of the start bit's first cycle
    int prev = 1;
    std::vector<uint8_t> bytes;
    uint8_t cur = 0;

    explicit LineMon(const char *n) : name(n) {}

    void sample(uint64_t c, int v)
    {
        if (state == 0) {
            if (prev == 1 && v == 0) {
                state = 1;
                start = c;
                cur = 0;
            }
        } else {
            int k = (int)((c - start) / CPB); // bit index 0 (start) .. 9 (stop)
            int exp;
            if (k == 0) {
                exp = 0;
            } else if (k <= 8) {
                // the data bit is taken from the line in its first cycle
                if ((c - start) % CPB == 0)
                    cur = (uint8_t)(cur | (v << (k - 1)));
                exp = (cur >> (k - 1)) & 1;
            } else {
                exp = 1;
            }
            CHECK(v == exp, "%s: line %d at cycle %llu, bit %d of a frame (CPB %d)", name, v,
                  (unsigned long long)c, k, CPB);
            if (k == 9 && (c - start) % CPB == CPB - 1) {
                bytes.push_back(cur);
                state = 0;
            }
        }
        prev = v;
    }
};

// ---- the decoder stand-in ---------------------------------------------------------

struct Core {
    enum { IDLE, PROMPT, GEN } st = IDLE;
    bool busy = false, err_pos = false, err_tok = false;
    bool err_img = false;         // the weight source's image check (bench-set)
    uint32_t inv_temp = 0, seed = 0, n_gen = 0;
    uint32_t prng = 0;            // the sampler's state: ctl_seed_byte shifted in from the top
    int seed_writes = 0;          // ctl_seed_we strobes since the last ctl_start
    std::vector<uint32_t> prompt; // ids as received
    std::vector<uint32_t> expect_prompt;
    std::vector<uint32_t> gen;    // ids sent
    uint32_t pos = 0;
    int delay = 0;                // cycles before the next generated id
    int gen_delay = 30;           // max random delay per generated id
    int fixed_delay = -1;         // >= 0: this delay instead
    bool g_valid = false;
    uint32_t g_data = 0;
    bool p_ready = false;
    int starts = 0;

    uint32_t id_of(uint32_t i) const
    {
        uint32_t sum = 0;
        for (uint32_t p : prompt)
            sum = sum * 31u + p;
        return (seed ^ (i * 2654435761u) ^ sum) % TBU_VOCAB;
    }

    void drive(Vdut *m)
    {
        p_ready = st == PROMPT && rng() % 100 < 50;
        m->p_ready = p_ready;
        m->g_valid = g_valid;
        m->g_data = g_data;
        m->st_busy = busy;
        m->st_err_pos = err_pos;
        m->st_err_token = err_tok;
        m->st_err_image = err_img;
    }

    // after settle: the handshakes of this cycle; state for the next
    void observe(Vdut *m)
    {
        if (m->ctl_seed_we) {
            // the decoder ignores them while busy; the unit must not send them
            CHECK(!busy, "ctl_seed_we while the core is busy");
            prng = ((uint32_t)m->ctl_seed_byte << 24) | (prng >> 8);
            seed_writes++;
        }
        if (m->ctl_start) {
            CHECK(!busy, "ctl_start while busy");
            CHECK(seed_writes >= 4, "ctl_start after %d seed writes", seed_writes);
            starts++;
            inv_temp = m->ctl_inv_temp;
            seed = prng;
            seed_writes = 0;
            n_gen = m->ctl_n_gen;
            prompt.clear();
            gen.clear();
            pos = 0;
            err_pos = err_tok = false;
            busy = true;
            st = PROMPT;
            return;
        }
        if (st == PROMPT && m->p_valid && p_ready) {
            uint32_t id = m->p_data;
            size_t i = prompt.size();
            CHECK(i < expect_prompt.size() && id == expect_prompt[i],
                  "prompt id %zu: %u, expected %u", i, id,
                  i < expect_prompt.size() ? expect_prompt[i] : 0u);
            CHECK(m->p_last == (i + 1 == expect_prompt.size()), "prompt id %zu: last %d", i,
                  m->p_last);
            prompt.push_back(id);
            if (id >= TBU_VOCAB)
                err_tok = true;
            pos++;
            if (m->p_last) {
                st = GEN;
                delay = fixed_delay >= 0 ? fixed_delay : (int)(rng() % (gen_delay + 1));
            }
            return;
        }
        if (st == GEN) {
            if (g_valid) {
                if (m->g_ready) {
                    gen.push_back(g_data);
                    g_valid = false;
                    pos++;
                    delay = fixed_delay >= 0 ? fixed_delay : (int)(rng() % (gen_delay + 1));
                }
                return;
            }
            if (gen.size() == n_gen) {
                st = IDLE;
                busy = false;
                return;
            }
            if (pos >= TBU_SEQ) {
                err_pos = true;
                st = IDLE;
                busy = false;
                return;
            }
            if (delay > 0) {
                delay--;
                return;
            }
            g_valid = true;
            g_data = id_of((uint32_t)gen.size());
        }
    }
};

// ---- the bench ------------------------------------------------------------------------

struct Bench {
    TB &tb;
    Core core;
    LineMon h2d{"h2d"}, d2h{"d2h"};
    std::deque<std::pair<uint8_t, int>> txq; // (byte, idle cycles before it)
    std::vector<uint8_t> sent;               // bytes handed to host_tx
    std::vector<uint8_t> rx;                 // bytes host_rx delivered
    size_t rx_pos = 0;                       // parsed so far
    // rx2 bit-bang: segments (level, length in 1/1000 cycle)
    std::deque<std::pair<int, long>> segs;
    long seg_left = 0;
    int rx2_level = 1;
    bool rx2_ready = true;
    std::vector<uint8_t> rx2_bytes;
    int rx2_frame_errs = 0, rx2_overruns = 0;
    uint64_t rx2_fall = 0, rx2_rise_valid = 0; // first start edge since cleared, last m_valid rise
    int rx2_prev_level = 1;
    bool rx2_prev_valid = false;
    bool allow_d_errors = false;

    explicit Bench(TB &t) : tb(t) {}

    void step()
    {
        Vdut *m = tb.m;
        bool offer = false;
        if (!txq.empty()) {
            if (txq.front().second > 0)
                txq.front().second--;
            else
                offer = true;
        }
        m->h_tx_valid = offer;
        m->h_tx_data = offer ? txq.front().first : 0;
        core.drive(m);
        // rx2 line
        while (seg_left <= 0 && !segs.empty()) {
            rx2_level = segs.front().first;
            seg_left += segs.front().second;
            segs.pop_front();
        }
        if (seg_left <= 0) {
            rx2_level = 1; // idle (no debt carried into the next segments)
            seg_left = 0;
        } else {
            seg_left -= 1000;
        }
        m->rx2_rxd = rx2_level;
        if (rx2_prev_level && !rx2_level && rx2_fall == 0)
            rx2_fall = tb.cycle;
        rx2_prev_level = rx2_level;
        m->rx2_ready = rx2_ready;
        tb.settle();
        if (offer && m->h_tx_ready) {
            sent.push_back(txq.front().first);
            txq.pop_front();
        }
        if (m->h_rx_valid)
            rx.push_back(m->h_rx_data);
        if (m->rx2_valid && rx2_ready)
            rx2_bytes.push_back(m->rx2_data);
        if (m->rx2_valid && !rx2_prev_valid)
            rx2_rise_valid = tb.cycle;
        rx2_prev_valid = m->rx2_valid;
        rx2_frame_errs += m->rx2_err_frame;
        rx2_overruns += m->rx2_err_overrun;
        CHECK(!m->h_rx_err_frame && !m->h_rx_err_overrun, "host_rx error at cycle %llu",
              (unsigned long long)tb.cycle);
        CHECK(allow_d_errors || (!m->d_rx_err_frame && !m->d_rx_err_overrun),
              "dut rx error at cycle %llu", (unsigned long long)tb.cycle);
        core.observe(m);
        h2d.sample(tb.cycle, m->h2d_line);
        d2h.sample(tb.cycle, m->d2h_line);
        tb.tick();
        m->dut_rxd = m->h2d_line;
        m->host_rxd = m->d2h_line;
    }

    void run(uint64_t n)
    {
        for (uint64_t i = 0; i < n; i++)
            step();
    }

    void send(const std::vector<uint8_t> &bytes, int max_gap = 0)
    {
        for (uint8_t b : bytes)
            txq.push_back({b, max_gap ? (int)(rng() % (max_gap + 1)) : 0});
    }

    // Next record from host_rx, waiting up to `limit` cycles; "" on timeout.
    std::vector<uint8_t> record(uint64_t limit = 400000)
    {
        uint64_t end = tb.cycle + limit;
        for (;;) {
            if (rx_pos < rx.size()) {
                uint8_t tag = rx[rx_pos];
                size_t len = tag == 'I' ? 9 : tag == 'A' ? 1 : (tag == 'T' || tag == 'E') ? 4 : 1;
                if (rx_pos + len <= rx.size()) {
                    std::vector<uint8_t> r(rx.begin() + (long)rx_pos,
                                           rx.begin() + (long)(rx_pos + len));
                    rx_pos += len;
                    CHECK(tag == 'I' || tag == 'A' || tag == 'T' || tag == 'E',
                          "unknown record tag 0x%02x", tag);
                    return r;
                }
            }
            if (tb.cycle >= end)
                return {};
            step();
        }
    }

    void expect(const std::vector<uint8_t> &want, const char *what)
    {
        std::vector<uint8_t> r = record();
        std::string a, b;
        char h[8];
        for (uint8_t x : r) {
            snprintf(h, sizeof h, "%02x ", x);
            a += h;
        }
        for (uint8_t x : want) {
            snprintf(h, sizeof h, "%02x ", x);
            b += h;
        }
        CHECK(r == want, "%s: record [%s], expected [%s]", what, a.c_str(), b.c_str());
    }

    void wait_idle(uint64_t limit = 400000)
    {
        uint64_t end = tb.cycle + limit;
        while (tb.cycle < end && (!txq.empty() || tb.m->st_run || core.busy))
            step();
        run(20 * CPB);
    }
};

static std::vector<uint8_t> frame(uint32_t inv_temp, uint32_t seed, uint32_t n_gen,
                                  const std::vector<uint32_t> &ids, int n_prompt = -1,
                                  bool bad_chk = false)
{
    std::vector<uint8_t> f = {'G'};
    uint32_t np = n_prompt < 0 ? (uint32_t)ids.size() : (uint32_t)n_prompt;
    for (int k = 0; k < 3; k++)
        f.push_back((uint8_t)(inv_temp >> (8 * k)));
    for (int k = 0; k < 4; k++)
        f.push_back((uint8_t)(seed >> (8 * k)));
    f.push_back((uint8_t)n_gen);
    f.push_back((uint8_t)(n_gen >> 8));
    f.push_back((uint8_t)np);
    f.push_back((uint8_t)(np >> 8));
    for (uint32_t id : ids)
        for (int k = 0; k < 3; k++)
            f.push_back((uint8_t)(id >> (8 * k)));
    uint8_t x = 0;
    for (uint8_t b : f)
        x ^= b;
    f.push_back(bad_chk ? (uint8_t)(x ^ 0x5a) : x);
    return f;
}

static std::vector<uint8_t> rec_end(int status, uint32_t count)
{
    return {'E', (uint8_t)status, (uint8_t)count, (uint8_t)(count >> 8)};
}

static std::vector<uint8_t> rec_tok(uint32_t id)
{
    return {'T', (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16)};
}

// The next n records: 'T' records of the core's ids 0 .. n - 1.
static void expect_tokens(Bench &b, uint32_t n, const char *what)
{
    for (uint32_t i = 0; i < n; i++) {
        std::vector<uint8_t> r = b.record();
        uint32_t want = i < b.core.gen.size() ? b.core.gen[i] : 0xffffff;
        CHECK(r == rec_tok(want), "%s: token %u record wrong (size %zu)", what, i, r.size());
    }
}

// A good run: frame sent, 'A', the core's ids, 'E'. Returns the count.
static void good_run(Bench &b, uint32_t inv_temp, uint32_t seed, uint32_t n_gen,
                     const std::vector<uint32_t> &ids, int max_gap, const char *what)
{
    int starts = b.core.starts;
    b.core.expect_prompt.clear();
    for (uint32_t id : ids)
        b.core.expect_prompt.push_back(id > TOKMAX ? TOKMAX : id);
    b.send(frame(inv_temp, seed, n_gen, ids), max_gap);
    b.expect({'A'}, what);
    uint32_t ngen_sat = n_gen > (1u << TBU_POS_W) - 1 ? (1u << TBU_POS_W) - 1 : n_gen;
    uint32_t room = TBU_SEQ - (uint32_t)ids.size();
    uint32_t n = ngen_sat < room ? ngen_sat : room;
    expect_tokens(b, n, what);
    bool bad_id = false;
    for (uint32_t id : ids)
        bad_id = bad_id || (id > TOKMAX ? TOKMAX : id) >= TBU_VOCAB;
    int status = (ngen_sat > room ? 1 : 0) | (bad_id ? 2 : 0);
    b.expect(rec_end(status, n), what);
    CHECK(b.core.starts == starts + 1, "%s: %d core starts", what, b.core.starts - starts);
    CHECK(b.core.inv_temp == (inv_temp & 0xffffff) && b.core.seed == seed &&
              b.core.n_gen == ngen_sat,
          "%s: ctl values %06x %08x %u", what, b.core.inv_temp, b.core.seed, b.core.n_gen);
    CHECK(b.core.prompt.size() == ids.size(), "%s: core took %zu of %zu prompt ids", what,
          b.core.prompt.size(), ids.size());
    CHECK(b.core.gen.size() == n, "%s: core generated %zu", what, b.core.gen.size());
}

static void rx2_byte(Bench &b, uint8_t v, double rate, bool bad_stop = false)
{
    long bit = (long)(CPB2 * 1000 * rate);
    b.segs.push_back({0, bit});
    for (int k = 0; k < 8; k++)
        b.segs.push_back({(v >> k) & 1, bit});
    b.segs.push_back({bad_stop ? 0 : 1, bit});
    b.segs.push_back({1, bit * 2});
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_uart");
    rng.seed(tb.plusarg("seed", 1));
    Bench b(tb);
    tb.m->dut_rxd = 1;
    tb.m->host_rxd = 1;
    tb.m->rx2_rxd = 1;
    tb.reset(4);
    b.run(50);

    // ---- info, junk ----
    b.send({0x00, 0xff, 0x12, 'I'});
    b.expect({'I', 1, TBU_VOCAB & 0xff, (TBU_VOCAB >> 8) & 0xff, 0, TBU_SEQ & 0xff,
              (TBU_SEQ >> 8) & 0xff, MAXP & 0xff, (MAXP >> 8) & 0xff},
             "info");

    // ---- a good frame ----
    good_run(b, 0x012345, 0xdeadbeef, 7, {1, 300, 511, 2, 77}, 0, "good");
    b.wait_idle();

    // ---- rejects ----
    int starts = b.core.starts;
    b.send(frame(0, 1, 3, {4, 5}, -1, true));
    b.expect(rec_end(4, 0), "bad checksum");
    b.send(frame(0, 1, 3, {}, 0));
    b.expect(rec_end(8, 0), "n_prompt 0");
    std::vector<uint32_t> many(MAXP + 1, 9);
    b.send(frame(0, 1, 3, many));
    b.expect(rec_end(8, 0), "n_prompt too large");
    b.wait_idle();
    CHECK(b.core.starts == starts, "a rejected frame started the core");

    // ---- saturations and errors ----
    good_run(b, 0, 42, 2, {5, 0x012345, 6}, 0, "id saturated");
    b.wait_idle();
    good_run(b, 0x10000, 7, 0xffff, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, "to seq_len");
    b.wait_idle();

    // ---- a frame and an info request during a run ----
    {
        // the core takes 6000 cycles per generated id: the second frame and
        // the info request are answered while the first run goes on
        int old_starts = b.core.starts;
        std::vector<uint32_t> ids = {3, 1, 4, 1, 5};
        b.core.expect_prompt = ids;
        b.core.fixed_delay = 6000;
        b.send(frame(0x8000, 99, 3, ids));
        b.expect({'A'}, "long run");
        b.send(frame(0, 2, 1, {7}));
        b.send({'I'});
        b.expect(rec_end(16, 0), "frame during a run");
        std::vector<uint8_t> info = b.record();
        CHECK(info.size() == 9 && info[0] == 'I', "info during a run");
        expect_tokens(b, 3, "long run");
        b.expect(rec_end(0, 3), "long run end");
        CHECK(b.core.starts == old_starts + 1, "long run: %d starts",
              b.core.starts - old_starts);
        b.core.fixed_delay = -1;
        b.wait_idle();
    }

    // ---- the weight source's image check (st_err_image) ----
    {
        int old_starts = b.core.starts;
        b.core.err_img = true;
        b.send(frame(0, 3, 2, {1, 2}));
        b.expect(rec_end(64, 0), "image error: frame rejected");
        std::vector<uint8_t> bad = frame(0, 3, 2, {1, 2});
        bad.back() ^= 1;
        b.send(bad);
        b.expect(rec_end(4, 0), "image error: a bad checksum first");
        b.send({'I'});
        std::vector<uint8_t> info = b.record();
        CHECK(info.size() == 9 && info[0] == 'I', "image error: info still answered");
        b.send(frame(0x10000, 4, 1, {9}));
        b.expect(rec_end(64, 0), "image error: second frame rejected");
        CHECK(b.core.starts == old_starts, "image error: %d core starts",
              b.core.starts - old_starts);
        b.core.err_img = false;
        good_run(b, 0, 5, 2, {1, 2}, 0, "after the image error");
        b.wait_idle();

        // the flag rising during a run: the run goes on, its 'E' shows it
        std::vector<uint32_t> ids = {2, 7};
        b.core.expect_prompt = ids;
        b.core.fixed_delay = 3000;
        b.send(frame(0, 11, 2, ids));
        b.expect({'A'}, "image error in a run");
        b.core.err_img = true;
        expect_tokens(b, 2, "image error in a run");
        b.expect(rec_end(64, 2), "image error in a run: end");
        b.core.err_img = false;
        b.core.fixed_delay = -1;
        b.wait_idle();
    }

    // ---- timeout ----
    b.send({'G', 1, 2, 3});
    b.expect(rec_end(32, 0), "timeout");
    good_run(b, 0, 5, 1, {8}, 0, "after timeout");
    b.wait_idle();

    // ---- random frames ----
    for (int f = 0; f < 40; f++) {
        std::vector<uint32_t> ids((size_t)(1 + rng() % MAXP));
        for (uint32_t &id : ids)
            id = (uint32_t)(rng() % TBU_VOCAB);
        if (ids.size() > 30)
            ids.resize(30);
        uint32_t n_gen = (uint32_t)(rng() % 8);
        b.core.gen_delay = (int)(rng() % 200);
        good_run(b, (uint32_t)(rng() & 0xffffff), (uint32_t)rng(), n_gen, ids,
                 (int)(rng() % 3) * 100, "random");
        b.wait_idle();
    }

    // ---- the lines carried exactly the bytes ----
    CHECK(b.h2d.bytes == b.sent, "h2d line: %zu bytes decoded, %zu sent", b.h2d.bytes.size(),
          b.sent.size());
    CHECK(b.d2h.bytes == b.rx, "d2h line: %zu bytes decoded, host_rx got %zu",
          b.d2h.bytes.size(), b.rx.size());
    CHECK(b.rx_pos == b.rx.size(), "%zu unparsed reply bytes", b.rx.size() - b.rx_pos);

    // ---- rx2: rate errors, glitch, framing error, break, overrun ----
    {
        std::vector<uint8_t> want;
        for (int i = 0; i < 20; i++) {
            uint8_t v = (uint8_t)rng();
            rx2_byte(b, v, i % 2 ? 0.97 : 1.03);
            want.push_back(v);
        }
        b.run(20 * 13 * CPB2 + 100);
        CHECK(b.rx2_bytes == want, "rx2: %zu of %zu bytes right at +-3 %%",
              b.rx2_bytes.size(), want.size());
        CHECK(b.rx2_frame_errs == 0, "rx2: framing errors at +-3 %%");
        // glitch: 2 cycles low
        b.rx2_bytes.clear();
        b.segs.push_back({0, 2000});
        b.segs.push_back({1, 30000});
        b.run(60);
        CHECK(b.rx2_bytes.empty() && b.rx2_frame_errs == 0, "rx2: glitch taken as a byte");
        // framing error, then a good byte
        rx2_byte(b, 0x55, 1.0, true);
        rx2_byte(b, 0xa6, 1.0);
        b.run(30 * CPB2);
        CHECK(b.rx2_frame_errs == 1, "rx2: %d framing errors for one bad stop bit",
              b.rx2_frame_errs);
        CHECK(b.rx2_bytes.size() == 1 && b.rx2_bytes[0] == 0xa6, "rx2: byte after a framing error");
        // break: 40 bit times low
        b.rx2_bytes.clear();
        b.rx2_frame_errs = 0;
        b.segs.push_back({0, 40L * CPB2 * 1000});
        b.segs.push_back({1, 3L * CPB2 * 1000});
        rx2_byte(b, 0x3c, 1.0);
        b.run(60 * CPB2);
        CHECK(b.rx2_frame_errs == 1, "rx2: %d framing errors for one break", b.rx2_frame_errs);
        CHECK(b.rx2_bytes.size() == 1 && b.rx2_bytes[0] == 0x3c, "rx2: byte after a break");
        // overrun: two bytes while not ready
        b.rx2_bytes.clear();
        b.rx2_ready = false;
        rx2_byte(b, 0x11, 1.0);
        rx2_byte(b, 0x22, 1.0);
        b.run(30 * CPB2);
        CHECK(b.rx2_overruns == 1, "rx2: %d overruns", b.rx2_overruns);
        b.rx2_ready = true;
        b.run(2);
        CHECK(b.rx2_bytes.size() == 1 && b.rx2_bytes[0] == 0x11, "rx2: first byte kept on overrun");
        // latency: m_valid 3 + CPB / 2 + 9 * CPB cycles after the start edge
        b.run(5 * CPB2);
        b.rx2_bytes.clear();
        b.rx2_fall = 0;
        rx2_byte(b, 0x5a, 1.0);
        b.run(12 * CPB2);
        uint64_t lat = b.rx2_rise_valid - b.rx2_fall;
        CHECK(b.rx2_bytes.size() == 1 && lat == (uint64_t)(3 + CPB2 / 2 + 9 * CPB2),
              "rx2: byte valid %llu cycles after its start edge, header says %d",
              (unsigned long long)lat, 3 + CPB2 / 2 + 9 * CPB2);
    }

    std::printf("tb_uart: CPB %d, %zu bytes host->fpga, %zu bytes fpga->host, %d core runs\n",
                CPB, b.sent.size(), b.rx.size(), b.core.starts);
    return tb.finish(errors == 0);
}
