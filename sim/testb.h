// testb.h: a small reusable Verilator harness (after ZipCPU's testb.h and
// Verilator's examples/make_tracing_c).
//
//   TESTB<Vdut> tb(argc, argv, "tb_matvec");  // +trace[=file] plusarg
//   tb.reset(4);                               // rst high for 4 cycles
//   loop: drive inputs; tb.settle(); sample handshakes; tb.tick();
//   return tb.finish(ok);                      // final(), exit code = verdict
//
// Cycle convention: tick() is one clock period ending just after a rising
// edge. Inputs set before tick() are seen by that edge; after settle() the
// outputs (registered and combinational) of the current cycle are valid, so
// a bench samples valid/ready pairs between settle() and tick() exactly as
// the edge will. tb.cycle counts completed ticks.
//
// The model must have 1-bit ports `clk` and `rst` (active-high, synchronous).
// randReset(2) gives every register a random initial value, so logic that
// depends on a missing reset shows up as a mismatch instead of passing by
// luck. Tracing needs the model verilated with --trace (VCD) or --trace-fst
// (FST, compile with -DVM_TRACE_FST=1); the +trace plusarg writes
// <name>.vcd / <name>.fst, +trace=FILE names the file.
#ifndef LLAMAGEN_TESTB_H
#define LLAMAGEN_TESTB_H

#include <verilated.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#if VM_TRACE
#if VM_TRACE_FST
#include <verilated_fst_c.h>
typedef VerilatedFstC TestbTrace;
#define TESTB_TRACE_EXT ".fst"
#else
#include <verilated_vcd_c.h>
typedef VerilatedVcdC TestbTrace;
#define TESTB_TRACE_EXT ".vcd"
#endif
#endif

template <class MODEL> class TESTB {
  public:
    VerilatedContext *ctx;
    MODEL *m;
    uint64_t cycle; // completed clock cycles since construction
    std::string name;

    TESTB(int argc, char **argv, const char *bench_name) : cycle(0), name(bench_name)
    {
        ctx = new VerilatedContext;
        ctx->randReset(2);
        ctx->commandArgs(argc, argv);
#if VM_TRACE
        ctx->traceEverOn(true);
#endif
        m = new MODEL{ctx, "top"};
#if VM_TRACE
        trace = nullptr;
        const char *arg = ctx->commandArgsPlusMatch("trace");
        if (arg && arg[0]) {
            std::string a(arg), file = name + TESTB_TRACE_EXT;
            if (a.rfind("+trace=", 0) == 0 && a.size() > 7)
                file = a.substr(7);
            trace = new TestbTrace;
            m->trace(trace, 99);
            trace->open(file.c_str());
            std::printf("%s: tracing to %s\n", name.c_str(), file.c_str());
        }
#else
        const char *arg = ctx->commandArgsPlusMatch("trace");
        if (arg && arg[0])
            std::printf("%s: +trace ignored (model verilated without --trace)\n", name.c_str());
#endif
        m->clk = 0;
        m->rst = 0;
        m->eval();
    }

    virtual ~TESTB()
    {
        close_trace();
        delete m;
        delete ctx;
    }

    // Settles combinational logic for the current inputs (clock low).
    void settle()
    {
        m->clk = 0;
        m->eval();
    }

    // One clock period of 10 ns: settle, rising edge, falling edge. Trace
    // samples at 2 ns before the edge (inputs settled), the edge and 5 ns
    // after it.
    void tick()
    {
        settle();
        dump(ns(10 * cycle + 8));
        ctx->time(ns(10 * cycle + 10));
        m->clk = 1;
        m->eval();
        dump(ns(10 * cycle + 10));
        ctx->time(ns(10 * cycle + 15));
        m->clk = 0;
        m->eval();
        dump(ns(10 * cycle + 15));
        cycle++;
    }

    // Holds rst high for `cycles` ticks, then releases it.
    void reset(int cycles)
    {
        m->rst = 1;
        for (int i = 0; i < cycles; i++)
            tick();
        m->rst = 0;
        settle();
    }

    // Value of a +name=value plusarg, or def.
    uint64_t plusarg(const char *key, uint64_t def) const
    {
        std::string v = plusarg_str(key, "");
        return v.empty() ? def : std::strtoull(v.c_str(), nullptr, 0);
    }

    // Text of a +name=value plusarg, or def.
    std::string plusarg_str(const char *key, const char *def) const
    {
        const char *arg = ctx->commandArgsPlusMatch(key);
        std::string a(arg ? arg : ""), pre = std::string("+") + key + "=";
        return a.rfind(pre, 0) == 0 ? a.substr(pre.size()) : std::string(def);
    }

    // Ends the simulation: final blocks, trace closed, verdict line; returns
    // the process exit code (0 = pass).
    int finish(bool pass)
    {
        m->final();
        close_trace();
        std::printf("%s: %s (%llu cycles)\n", name.c_str(), pass ? "PASS" : "FAIL",
                    (unsigned long long)cycle);
        return pass ? 0 : 1;
    }

  private:
#if VM_TRACE
    TestbTrace *trace;
#endif

    // Nanoseconds in simulation time units (the model's time precision).
    uint64_t ns(uint64_t t) const
    {
        for (int p = ctx->timeprecision(); p < -9; p++)
            t *= 10;
        return t;
    }

    void dump(uint64_t t)
    {
#if VM_TRACE
        if (trace)
            trace->dump(t);
#else
        (void)t;
#endif
    }

    void close_trace()
    {
#if VM_TRACE
        if (trace) {
            trace->close();
            delete trace;
            trace = nullptr;
        }
#endif
    }
};

#endif
