#include "jsn/wire/signature.h"

#include <gtest/gtest.h>

#include <string>

namespace jsn {
namespace {

void ExpectRule(std::string_view signature, const char* rule, size_t offset) {
  Status s = ValidateSignature(signature, 100);
  EXPECT_STREQ(s.rule(), rule) << signature << ": " << s.message();
  EXPECT_EQ(s.offset(), 100 + offset) << signature;
}

TEST(Signature, AcceptsEveryTypeAndSystemdShapes) {
  for (const char* good : {"", "y", "bnqiuxtdhsogv", "a{sv}", "sa{sv}as", "a(ss)", "aav",
                           "(i(ii)a{s(ai)})", "a{oa{sa{sv}}}", "a{yv}", "(s)"}) {
    Status s = ValidateSignature(good, 0);
    EXPECT_TRUE(s.ok()) << good << ": " << s.message();
  }
}

TEST(Signature, RejectsUnknownCodesAndUnbalancedContainers) {
  ExpectRule("z", "bad-signature", 0);
  ExpectRule("ii)", "bad-signature", 2);
  ExpectRule("(ii", "bad-signature", 3);
  ExpectRule("a", "bad-signature", 1);
  ExpectRule("sa", "bad-signature", 2);
  ExpectRule("a{sv", "bad-signature", 4);
  ExpectRule("}", "bad-signature", 0);
  ExpectRule(std::string_view("i\0", 2), "bad-signature", 1);
}

TEST(Signature, RejectsEmptyStruct) { ExpectRule("s()", "empty-struct", 1); }

TEST(Signature, DictEntriesOnlyAsArrayElementsWithBasicKeyAndOneValue) {
  ExpectRule("{sv}", "dict-entry-outside-array", 0);
  ExpectRule("(s{sv})", "dict-entry-outside-array", 2);
  ExpectRule("a{vs}", "dict-key-not-basic", 2);
  ExpectRule("a{(s)s}", "dict-key-not-basic", 2);
  ExpectRule("a{s}", "dict-entry-field-count", 3);
  ExpectRule("a{sss}", "dict-entry-field-count", 4);
  ExpectRule("a{}", "dict-key-not-basic", 2);
}

TEST(Signature, AllowsThirtyTwoArraysButNotThirtyThree) {
  std::string ok = std::string(32, 'a') + "y";
  EXPECT_TRUE(ValidateSignature(ok, 0).ok());
  ExpectRule(std::string(33, 'a') + "y", "array-nesting-too-deep", 32);
}

TEST(Signature, AllowsThirtyTwoStructsButNotThirtyThree) {
  std::string ok = std::string(32, '(') + "y" + std::string(32, ')');
  EXPECT_TRUE(ValidateSignature(ok, 0).ok());
  ExpectRule(std::string(33, '(') + "y" + std::string(33, ')'), "struct-nesting-too-deep", 32);
}

TEST(Signature, CountsDictEntriesAsStructs) {
  std::string deep = std::string(32, '(') + "a{sy}" + std::string(32, ')');
  ExpectRule(deep, "struct-nesting-too-deep", 33);
}

TEST(Signature, TotalNestingCountsOuterContainers) {
  NestingDepth outer{10, 10, 64};
  Status s = ValidateSignature("ay", 7, outer);
  EXPECT_STREQ(s.rule(), "nesting-too-deep");
  EXPECT_EQ(s.offset(), 7u);
  EXPECT_TRUE(ValidateSignature("y", 7, outer).ok());
  Status arrays = ValidateSignature("ay", 0, NestingDepth{32, 0, 32});
  EXPECT_STREQ(arrays.rule(), "array-nesting-too-deep");
}

TEST(Signature, DictionariesOfPropertiesMeetTheSameLimitsAsAnyContainer) {
  // a{sv} is an array and a dict entry: allowed while both fit under the outer nesting.
  EXPECT_TRUE(ValidateSignature("sa{sv}as", 0, NestingDepth{31, 31, 62}).ok());
  Status arrays = ValidateSignature("sa{sv}as", 0, NestingDepth{32, 0, 32});
  EXPECT_STREQ(arrays.rule(), "array-nesting-too-deep");
  EXPECT_EQ(arrays.offset(), 1u);
  Status structs = ValidateSignature("a{sv}", 0, NestingDepth{0, 32, 32});
  EXPECT_STREQ(structs.rule(), "struct-nesting-too-deep");
  EXPECT_EQ(structs.offset(), 1u);
  Status total = ValidateSignature("a{sv}", 0, NestingDepth{10, 10, 63});
  EXPECT_STREQ(total.rule(), "nesting-too-deep");
  EXPECT_EQ(total.offset(), 1u);
  EXPECT_TRUE(ValidateSignature("av", 0, NestingDepth{10, 10, 63}).ok());
  // Near misses of the shape are judged by the full rules.
  ExpectRule("a{vs}", "dict-key-not-basic", 2);
  ExpectRule("a{s}", "dict-entry-field-count", 3);
  ExpectRule("a{svv}", "dict-entry-field-count", 4);
  ExpectRule("a{sv", "bad-signature", 4);
  Status two = ValidateSingleCompleteType("a{sv}as", 9);
  EXPECT_STREQ(two.rule(), "variant-not-single-type");
  EXPECT_EQ(two.offset(), 9u + 5);
  EXPECT_TRUE(ValidateSingleCompleteType("a{sv}", 9).ok());
}

TEST(Signature, RejectsMoreThan255Bytes) {
  std::string ok(255, 'y');
  EXPECT_TRUE(ValidateSignature(ok, 0).ok());
  ExpectRule(std::string(256, 'y'), "signature-too-long", 255);
}

TEST(SingleCompleteType, AcceptsOneTypeRejectsNoneOrTwo) {
  EXPECT_TRUE(ValidateSingleCompleteType("a{sv}", 0).ok());
  EXPECT_TRUE(ValidateSingleCompleteType("(ss)", 0).ok());
  Status none = ValidateSingleCompleteType("", 5);
  EXPECT_STREQ(none.rule(), "variant-not-single-type");
  EXPECT_EQ(none.offset(), 5u);
  Status two = ValidateSingleCompleteType("si", 5);
  EXPECT_STREQ(two.rule(), "variant-not-single-type");
  EXPECT_EQ(two.offset(), 6u);
  EXPECT_STREQ(ValidateSingleCompleteType("a", 0).rule(), "bad-signature");
}

TEST(CompleteTypeLength, MeasuresNestedContainers) {
  EXPECT_EQ(CompleteTypeLength("s", 0), 1u);
  EXPECT_EQ(CompleteTypeLength("sa{sv}as", 1), 5u);
  EXPECT_EQ(CompleteTypeLength("sa{sv}as", 6), 2u);
  EXPECT_EQ(CompleteTypeLength("(i(ii)a{s(ai)})y", 0), 15u);
  EXPECT_EQ(CompleteTypeLength("aaa(yy)", 0), 7u);
}

TEST(Alignment, FollowsTheWireFormat) {
  EXPECT_EQ(AlignmentOf('y'), 1u);
  EXPECT_EQ(AlignmentOf('g'), 1u);
  EXPECT_EQ(AlignmentOf('v'), 1u);
  EXPECT_EQ(AlignmentOf('n'), 2u);
  EXPECT_EQ(AlignmentOf('b'), 4u);
  EXPECT_EQ(AlignmentOf('a'), 4u);
  EXPECT_EQ(AlignmentOf('s'), 4u);
  EXPECT_EQ(AlignmentOf('t'), 8u);
  EXPECT_EQ(AlignmentOf('d'), 8u);
  EXPECT_EQ(AlignmentOf('('), 8u);
  EXPECT_EQ(AlignmentOf('{'), 8u);
}

}  // namespace
}  // namespace jsn
