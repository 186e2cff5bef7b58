// PLACEHOLDER until the kernels land.
namespace occult { int kernels_placeholder_symbol = 0; }
