#ifndef PORTSTORM_FUZZ_DRIVER_H
#define PORTSTORM_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver with `callback` as the target. SwiftPM links an executable target's entry
/// point as `<Target>_main`, so the fuzz targets define that and hand over to libFuzzer here.
int portstorm_fuzz_run(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size));
#endif
