// PLACEHOLDER until the CPU references land.
namespace occult { int kernels_ref_placeholder_symbol = 0; }
