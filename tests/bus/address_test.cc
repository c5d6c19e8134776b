#include "jsn/bus/address.h"

#include <gtest/gtest.h>

#include <string>

namespace jsn {
namespace {

std::string Name(const UnixAddress& address) { return std::string(address.name_view()); }

TEST(Address, UnixPathIsParsed) {
  AddressList list;
  ASSERT_TRUE(ParseAddressList("unix:path=/run/dbus/system_bus_socket", &list).ok());
  ASSERT_EQ(list.count, 1u);
  EXPECT_FALSE(list.entries[0].abstract);
  EXPECT_EQ(Name(list.entries[0]), "/run/dbus/system_bus_socket");
}

TEST(Address, UnixAbstractIsParsed) {
  AddressList list;
  ASSERT_TRUE(
      ParseAddressList("unix:abstract=/tmp/dbus-XYZ,guid=0123456789abcdef0123456789abcdef", &list)
          .ok());
  ASSERT_EQ(list.count, 1u);
  EXPECT_TRUE(list.entries[0].abstract);
  EXPECT_EQ(Name(list.entries[0]), "/tmp/dbus-XYZ");
}

TEST(Address, PercentEscapesAreDecodedInEitherCase) {
  AddressList list;
  ASSERT_TRUE(ParseAddressList("unix:path=/tmp/a%20b%2cc%3D%3bd%25", &list).ok());
  EXPECT_EQ(Name(list.entries[0]), "/tmp/a b,c=;d%");
}

TEST(Address, OptionallyEscapedBytesPassUnescaped) {
  AddressList list;
  ASSERT_TRUE(ParseAddressList("unix:path=/A-z_0.9*\\x", &list).ok());
  EXPECT_EQ(Name(list.entries[0]), "/A-z_0.9*\\x");
}

TEST(Address, ByteThatMustBeEscapedIsRejectedWithItsOffset) {
  AddressList list;
  Status status = ParseAddressList("unix:path=/tmp/a b", &list);
  EXPECT_STREQ(status.rule(), "address-unescaped-byte");
  EXPECT_EQ(status.offset(), 16u);
  EXPECT_NE(std::string(status.message()).find("0x20"), std::string::npos);
}

TEST(Address, BadEscapesAreRejected) {
  AddressList list;
  EXPECT_STREQ(ParseAddressList("unix:path=/tmp/%2", &list).rule(), "address-bad-escape");
  EXPECT_STREQ(ParseAddressList("unix:path=/tmp/%zz", &list).rule(), "address-bad-escape");
  EXPECT_STREQ(ParseAddressList("unix:path=/tmp/%00x", &list).rule(), "address-bad-escape");
}

TEST(Address, SeveralAddressesKeepTheirOrder) {
  AddressList list;
  ASSERT_TRUE(
      ParseAddressList("unix:path=/first;unix:abstract=second;unix:path=/third", &list).ok());
  ASSERT_EQ(list.count, 3u);
  EXPECT_EQ(Name(list.entries[0]), "/first");
  EXPECT_EQ(Name(list.entries[1]), "second");
  EXPECT_TRUE(list.entries[1].abstract);
  EXPECT_EQ(Name(list.entries[2]), "/third");
}

TEST(Address, UnknownTransportsAreSkipped) {
  AddressList list;
  ASSERT_TRUE(
      ParseAddressList("tcp:host=localhost,port=1234;unix:path=/s;launchd:env=X", &list).ok());
  ASSERT_EQ(list.count, 1u);
  EXPECT_EQ(Name(list.entries[0]), "/s");
}

TEST(Address, OnlyUnusableAddressesIsAnErrorThatSaysWhy) {
  AddressList list;
  Status status = ParseAddressList("tcp:host=localhost,port=1234", &list);
  EXPECT_STREQ(status.rule(), "no-usable-address");
  EXPECT_NE(std::string(status.message()).find("\"tcp\""), std::string::npos);
  EXPECT_STREQ(ParseAddressList("unix:tmpdir=/tmp", &list).rule(), "no-usable-address");
}

TEST(Address, SyntaxErrorInASkippedTransportStillFails) {
  AddressList list;
  EXPECT_STREQ(ParseAddressList("tcp:host=a b;unix:path=/s", &list).rule(),
               "address-unescaped-byte");
}

TEST(Address, MalformedAddressesAreRejected) {
  AddressList list;
  EXPECT_STREQ(ParseAddressList("", &list).rule(), "address-empty");
  EXPECT_STREQ(ParseAddressList(";", &list).rule(), "address-empty");
  EXPECT_STREQ(ParseAddressList("/run/dbus/socket", &list).rule(), "address-missing-transport");
  EXPECT_STREQ(ParseAddressList(":path=/x", &list).rule(), "address-missing-transport");
  EXPECT_STREQ(ParseAddressList("unix:path", &list).rule(), "address-bad-key-value");
  EXPECT_STREQ(ParseAddressList("unix:=x", &list).rule(), "address-bad-key-value");
  EXPECT_STREQ(ParseAddressList("unix:", &list).rule(), "address-missing-key");
  EXPECT_STREQ(ParseAddressList("unix:path=", &list).rule(), "address-empty-value");
  EXPECT_STREQ(ParseAddressList("unix:path=/a,path=/b", &list).rule(), "address-duplicate-key");
  EXPECT_STREQ(ParseAddressList("unix:path=/a,abstract=b", &list).rule(),
               "address-conflicting-keys");
}

TEST(Address, TrailingSemicolonIsTolerated) {
  AddressList list;
  ASSERT_TRUE(ParseAddressList("unix:path=/s;", &list).ok());
  EXPECT_EQ(list.count, 1u);
}

TEST(Address, LongestPathThatFitsSockaddrUnIsAccepted) {
  std::string path = "/" + std::string(kMaxSocketNameLength - 1, 'p');
  AddressList list;
  ASSERT_TRUE(ParseAddressList("unix:path=" + path, &list).ok());
  sockaddr_un socket_address;
  socklen_t length = list.entries[0].ToSockaddr(&socket_address);
  EXPECT_EQ(length, sizeof socket_address);
  EXPECT_EQ(std::string(socket_address.sun_path), path);
}

TEST(Address, PathTooLongForSockaddrUnIsAnErrorThatSaysSo) {
  std::string path = "/" + std::string(kMaxSocketNameLength, 'p');
  AddressList list;
  Status status = ParseAddressList("unix:path=" + path, &list);
  EXPECT_STREQ(status.rule(), "socket-path-too-long");
  EXPECT_NE(std::string(status.message()).find("107"), std::string::npos);
  EXPECT_STREQ(ParseAddressList("unix:abstract=" + path, &list).rule(), "socket-path-too-long");
}

TEST(Address, AbstractSockaddrStartsWithNulAndHasNoTerminator) {
  AddressList list;
  ASSERT_TRUE(ParseAddressList("unix:abstract=bus", &list).ok());
  sockaddr_un socket_address;
  socklen_t length = list.entries[0].ToSockaddr(&socket_address);
  EXPECT_EQ(length, offsetof(sockaddr_un, sun_path) + 4);
  EXPECT_EQ(socket_address.sun_path[0], '\0');
  EXPECT_EQ(std::string(socket_address.sun_path + 1, 3), "bus");
}

TEST(Address, TooManyUsableAddressesIsAnError) {
  std::string text;
  for (size_t i = 0; i <= kMaxAddresses; ++i) text += "unix:path=/s;";
  AddressList list;
  EXPECT_STREQ(ParseAddressList(text, &list).rule(), "too-many-addresses");
}

TEST(Address, SystemBusComesFromTheEnvironmentValueOrTheDefault) {
  bool is_default = true;
  EXPECT_STREQ(SystemBusAddress("unix:path=/elsewhere", &is_default), "unix:path=/elsewhere");
  EXPECT_FALSE(is_default);
  EXPECT_STREQ(SystemBusAddress(nullptr, &is_default), "unix:path=/run/dbus/system_bus_socket");
  EXPECT_TRUE(is_default);
  is_default = false;
  EXPECT_STREQ(SystemBusAddress("", &is_default), kDefaultSystemBusAddress);
  EXPECT_TRUE(is_default);
  EXPECT_STREQ(SystemBusAddress("unix:path=/elsewhere"), "unix:path=/elsewhere");
}

}  // namespace
}  // namespace jsn
