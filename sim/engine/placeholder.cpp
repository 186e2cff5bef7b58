// PLACEHOLDER until the engine lands.
namespace occult { int engine_placeholder_symbol = 0; }
