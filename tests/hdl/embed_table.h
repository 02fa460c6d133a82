// embed_table.h: the embedding tables of the lookup benches (tb_embed.cpp:
// lg_embed; tb_embstream.cpp: lg_embstream), read back from the
// bench_data.txt files tests/hdl/gen_mem_units.c wrote beside each emitted
// configuration. Header-only, one bench per translation unit.
#ifndef LLAMAGEN_TB_EMBED_TABLE_H
#define LLAMAGEN_TB_EMBED_TABLE_H

extern "C" {
#include "llamagen/ref.h"
}

#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

// ---- the tables -------------------------------------------------------------------

struct Table {
    lg_qmat m;
    std::vector<int8_t> mant;
    std::vector<uint8_t> dexp;
};

// The generator's OUTROOT: gen/ beside this program (tests/hdl/units_mem.mk).
static std::string gen_dir()
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return "gen";
    exe[n] = 0;
    std::string s(exe);
    return s.substr(0, s.rfind('/')) + "/gen";
}

static bool load_table(Table &t, const char *cfg)
{
    std::string path = gen_dir() + "/" + cfg + "/bench_data.txt";
    FILE *f = std::fopen(path.c_str(), "r");
    if (!f) {
        std::printf("cannot open %s\n", path.c_str());
        return false;
    }
    int rows, cols, group, ebase;
    bool ok = std::fscanf(f, "%d %d %d %d", &rows, &cols, &group, &ebase) == 4;
    int ng = (cols + group - 1) / group;
    for (int i = 0; ok && i < rows * cols; i++) {
        int v;
        ok = std::fscanf(f, "%d", &v) == 1;
        t.mant.push_back((int8_t)v);
    }
    for (int i = 0; ok && i < rows * ng; i++) {
        int v;
        ok = std::fscanf(f, "%d", &v) == 1;
        t.dexp.push_back((uint8_t)v);
    }
    std::fclose(f);
    if (!ok) {
        std::printf("%s: bad bench data\n", path.c_str());
        return false;
    }
    t.m.rows = rows;
    t.m.cols = cols;
    t.m.group = group;
    t.m.ngroups = ng;
    t.m.ebase = ebase;
    t.m.mant = t.mant.data();
    t.m.dexp = t.dexp.data();
    return true;
}

#endif
