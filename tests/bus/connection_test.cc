// Connection behaviour that needs no bus: a closed connection refuses politely, serials.
// Everything that talks to a bus is in tests/integration/connection_private_bus_test.cc (a real
// dbus-daemon), connection_fake_bus_test.cc and peer_interface_test.cc (a fake bus).
#include "jsn/bus/connection.h"

#include <gtest/gtest.h>

namespace jsn {
namespace {

TEST(Connection, ClosedConnectionReportsConnectionClosedEverywhere) {
  Connection connection;
  EXPECT_FALSE(connection.is_open());
  EXPECT_EQ(connection.fd(), -1);
  EXPECT_TRUE(connection.unique_name().empty());
  const uint8_t bytes[16] = {'l', 1, 0, 1};
  EXPECT_STREQ(connection.Send(bytes).rule(), "connection-closed");
  EXPECT_STREQ(connection.Call(bytes, 1).rule(), "connection-closed");
  EXPECT_STREQ(connection.Flush().rule(), "connection-closed");
  Incoming incoming;
  bool have = true;
  EXPECT_STREQ(connection.Receive(&incoming, &have).rule(), "connection-closed");
  EXPECT_FALSE(have);
  EXPECT_FALSE(connection.wants_write());
  EXPECT_EQ(connection.pending_calls(), 0u);
}

TEST(Connection, SerialsStartAtOneAndIncrease) {
  Connection connection;
  EXPECT_EQ(connection.NextSerial(), 1u);
  EXPECT_EQ(connection.NextSerial(), 2u);
  EXPECT_EQ(connection.NextSerial(), 3u);
}

TEST(Connection, BadAddressFailsBeforeAnySocket) {
  Connection connection;
  EXPECT_STREQ(connection.Open("tcp:host=localhost,port=1").rule(), "no-usable-address");
  EXPECT_STREQ(connection.Open("unix:path=/a b").rule(), "address-unescaped-byte");
  EXPECT_FALSE(connection.is_open());
}

}  // namespace
}  // namespace jsn
