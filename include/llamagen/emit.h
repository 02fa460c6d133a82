/*
 * RTL emitter machinery: templates, banners, memory images.
 *
 * Templates live in rtl_templates/<name>.v and read as Verilog; the build
 * embeds them into the library (so the CLI needs no install path). Named
 * placeholders are written ${NAME}; rendering fails on a placeholder the
 * caller did not supply and on a supplied value the template does not use.
 * Verilog parameters carry what parameters can; placeholders only carry what
 * they cannot (LUT file names, derived constants, per-config wiring, module
 * names with baked-in constants).
 *
 * Every emitted file starts with a do-not-edit banner naming the exact
 * llamagen command that regenerates it, the generator version, the config
 * and the unit's latency. Output is deterministic (no timestamps).
 */
#ifndef LLAMAGEN_EMIT_H
#define LLAMAGEN_EMIT_H

#include "llamagen/config.h"

typedef struct lg_subst {
    const char *name;  // placeholder name without ${ }
    const char *value; // replacement text
} lg_subst;

// Embedded template text by name ("lg_matvec" for rtl_templates/lg_matvec.v),
// or NULL.
const char *lg_template_get(const char *name);

// Renders a template; *out is malloc'ed. Errors name the template and the
// placeholder.
int lg_template_render(const char *name, const lg_subst *vars, int nvars, char **out,
                       lg_err *err);

typedef struct lg_emit_ctx {
    const lg_config *cfg;
    const char *outdir;  // directory written into (must exist)
    const char *command; // the regenerate command line for banners
    char **files;        // (nfiles) emitted file names in emission order
    int nfiles;
} lg_emit_ctx;

void lg_emit_ctx_init(lg_emit_ctx *ctx, const lg_config *cfg, const char *outdir,
                      const char *command);
void lg_emit_ctx_free(lg_emit_ctx *ctx);

// Renders template `tmpl` into <outdir>/<module>.v with the banner
// (latency: one line describing the unit's latency/throughput contract).
int lg_emit_module(lg_emit_ctx *ctx, const char *module, const char *tmpl, const lg_subst *vars,
                   int nvars, const char *latency, lg_err *err);

// Writes a $readmemh image: n words of width_bits each (two's complement for
// negative values), one hex word per line, with a // comment header.
int lg_emit_hex(lg_emit_ctx *ctx, const char *file, const int64_t *vals, size_t n,
                int width_bits, const char *what, lg_err *err);

#endif
