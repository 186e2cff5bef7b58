// PLACEHOLDER until the backend lands.
namespace occult { int backend_placeholder_symbol = 0; }
