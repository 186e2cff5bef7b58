#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "sim/core/strategy.hpp"

namespace occult {

TEST(Strategy, ParsesEverySpellingAndRoundTrips) {
  for (const char* s : {"standard", "occult", "hierarchical", "pruned:2", "node-limited:4", "pruned:1/similarity"}) {
    EXPECT_EQ(parse_strategy(s).name(), s);
  }
  auto p = parse_strategy("pruned:3/score");
  EXPECT_EQ(p.base, Strategy::Occult);
  EXPECT_EQ(p.prune_limit, 3);
  EXPECT_EQ(p.name(), "pruned:3");
  auto n = parse_strategy("node-limited:4");
  EXPECT_TRUE(n.prune_nodes);
  EXPECT_EQ(n.base, Strategy::Hierarchical);
}

TEST(Strategy, RejectsBadSpellings) {
  for (const char* s : {"", "Standard", "pruned", "pruned:", "pruned:0", "pruned:-1", "pruned:2x", "pruned:2/best",
                        "limited:2"}) {
    EXPECT_THROW(parse_strategy(s), InputError) << s;
  }
}

}  // namespace occult
