/* A stand-in for Windows' bcryptprimitives.dll, for wine versions that lack it (Debian 12's wine
 * 8.0). Rust's standard library takes its random bytes from ProcessPrng there; this one asks
 * RtlGenRandom (advapi32's SystemFunction036), which every wine has. Built by .ci/platforms with
 * mingw-w64 and put beside the .exe under test only; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
