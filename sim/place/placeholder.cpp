// PLACEHOLDER until the placement algorithms land.
namespace occult { int place_placeholder_symbol = 0; }
