// Output comparison against figures computed by hand.
#include "test_support.h"

#include "twb/compare.h"
#include "twb/error.h"

class TestCompare : public QObject {
    Q_OBJECT
private slots:
    void errorFigures();
    void identical();
    void nanAndInf();
    void topk();
    void structureShapeAndDtype();
    void oneTensorReferenceMeetsItsLeaf();
};

void TestCompare::errorFigures() {
    const auto a = twb::makeTensor({1, 2, 3, 4}, {2, 2}), b = twb::makeTensor({1, 2, 3, 5}, {2, 2});
    const auto c = twb::compareOutputs(a, b);
    QCOMPARE(c.leaves.size(), std::size_t(1));
    const auto& l = c.leaves[0];
    QCOMPARE(l.path, std::string("out"));
    QCOMPARE(l.maxAbs, 1.0);
    QCOMPARE(l.meanAbs, 0.25);
    QCOMPARE(l.rmse, 0.5);
    QCOMPARE(l.maxRel, 0.2); // |4 - 5| / 5
    QVERIFY(std::abs(l.cosine - 34 / std::sqrt(30.0 * 39.0)) < 1e-12);
    QVERIFY(!l.allclose && !c.allclose);
    QCOMPARE(l.mismatches, int64_t(1));
    QCOMPARE(l.firstMismatches, (std::vector<std::vector<int64_t>>{{1, 1}}));
    twb::CompareOptions loose;
    loose.atol = 1.0;
    QVERIFY(twb::compareOutputs(a, b, loose).allclose);
    loose.atol = 0;
    loose.rtol = 0.2; // |a - b| <= rtol * |b|
    QVERIFY(twb::compareOutputs(a, b, loose).allclose);
    QCOMPARE(twb::absoluteErrors(a, b, "out"), (std::vector<double>{0, 0, 0, 1}));
    QVERIFY(twb::absoluteErrors(a, b, "out[0]").empty());
}

void TestCompare::identical() {
    const auto a =
        twb::makeTuple({twb::makeTensor({1, 2}, {2}), twb::makeDict({{"s", twb::makeTensor({3}, {1})}})});
    const auto c = twb::compareOutputs(a, a);
    QVERIFY(c.allclose && c.sameStructure);
    QCOMPARE(c.leaves.size(), std::size_t(2));
    QCOMPARE(c.leaves[1].path, std::string("out[1][\"s\"]"));
    QCOMPARE(c.leaves[0].maxAbs, 0.0);
    QCOMPARE(c.leaves[0].cosine, 1.0);
}

void TestCompare::nanAndInf() {
    const double nan = std::nan(""), inf = INFINITY;
    const auto a = twb::makeTensor({1, nan, inf, 4}, {4}, "float64");
    const auto b = twb::makeTensor({1, nan, inf, nan}, {4}, "float64");
    const auto c = twb::compareOutputs(a, b);
    const auto& l = c.leaves[0];
    QCOMPARE(l.nanA, int64_t(1));
    QCOMPARE(l.nanB, int64_t(2));
    QCOMPARE(l.infA, int64_t(1));
    QCOMPARE(l.infB, int64_t(1));
    QCOMPARE(l.mismatches, int64_t(2)); // NaN never equals NaN (equal_nan=False); equal infinities match
    QCOMPARE(l.maxAbs, 0.0);            // over the elements finite on both sides
    // As torch.isclose: a finite value is never close to an infinity, whatever the tolerance.
    twb::CompareOptions loose;
    loose.atol = 1e9;
    QVERIFY(!twb::compareOutputs(twb::makeTensor({1}, {1}, "float64"),
                                 twb::makeTensor({INFINITY}, {1}, "float64"), loose)
                 .allclose);
    QVERIFY(!twb::compareOutputs(twb::makeTensor({-INFINITY}, {1}, "float64"),
                                 twb::makeTensor({INFINITY}, {1}, "float64"), loose)
                 .allclose);
    QVERIFY(twb::compareOutputs(twb::makeTensor({INFINITY}, {1}, "float64"),
                                twb::makeTensor({INFINITY}, {1}, "float64"))
                .allclose);
    // Complex against real is reported, not crashed on.
    const auto mixed =
        twb::compareOutputs(twb::makeTensor({1, 2}, {2}, "complex64"), twb::makeTensor({1, 2}, {2}));
    QCOMPARE(mixed.leaves[0].status, twb::LeafStatus::TypeMismatch);
    QVERIFY(!mixed.allclose);
    const auto complexSame = twb::compareOutputs(twb::makeTensor({1, 2}, {2}, "complex64"),
                                                 twb::makeTensor({1, 2}, {2}, "complex64"));
    QVERIFY(complexSame.allclose);
    QCOMPARE(complexSame.leaves[0].mismatches, int64_t(0));
}

void TestCompare::topk() {
    const auto a = twb::makeTensor({0.1, 0.9, 0.0, 0.5, 0.2, 0.3}, {2, 3});
    const auto b = twb::makeTensor({0.2, 0.7, 0.1, 0.1, 0.6, 0.3}, {2, 3});
    twb::CompareOptions o;
    o.topk = 2;
    const auto c = twb::compareOutputs(a, b, o);
    const auto& l = c.leaves[0];
    QVERIFY(l.hasTopk);
    QCOMPARE(l.k, 2);
    QCOMPARE(l.argmaxAgreement, 0.5); // row 0 agrees (1), row 1 does not (0 vs 1)
    QCOMPARE(l.topkAgreement, 0.75);  // row 0: {1,0} = {1,0}; row 1: {0,2} vs {1,2} shares one of two
}

void TestCompare::oneTensorReferenceMeetsItsLeaf() {
    // forward returns {"logits": [2, 3], "pair": ([2, 8], [2])}; Python saved out["logits"] alone.
    const auto logits = twb::makeTensor({1, 2, 3, 4, 5, 6}, {2, 3});
    const auto out =
        twb::makeDict({{"logits", logits},
                       {"pair", twb::makeTuple({twb::makeTensor(std::vector<double>(16, 0.5), {2, 8}),
                                                twb::makeTensor({7, 8}, {2})})}});
    const twb::ReferenceTarget t = twb::referenceTarget(out, logits);
    QCOMPARE(t.path, std::string("out[\"logits\"]"));
    QVERIFY2(twbtest::contains(t.reason, "only leaf of its shape [2, 3]"), t.reason.c_str());
    QVERIFY(twb::compareOutputs(t.value, logits).allclose);
    // Named, in either spelling; a name that is not there lists the leaves.
    QCOMPARE(twb::referenceTarget(out, twb::makeTensor({7, 8}, {2}), "[\"pair\"][1]").path,
             std::string("out[\"pair\"][1]"));
    QCOMPARE(twb::referenceTarget(out, logits, "out[\"pair\"][0]").path, std::string("out[\"pair\"][0]"));
    try {
        twb::referenceTarget(out, logits, "out[3]");
        QFAIL("a leaf that is not there was chosen");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "no leaf out[3]") &&
                     twbtest::contains(e.what(), "out[\"pair\"][1]"),
                 e.what());
    }
    // No leaf of that shape, or two: the caller must say which.
    for (const auto& ref :
         {twb::makeTensor({1, 2, 3}, {3}), twb::makeTensor(std::vector<double>(16, 0), {2, 8})}) {
        const auto twice = twb::makeTuple({ref, ref, logits});
        const auto& output = ref.shape() == std::vector<int64_t>{3} ? out : twice;
        try {
            twb::referenceTarget(output, ref);
            QFAIL("an ambiguous reference was matched");
        } catch (const twb::Error& e) {
            QVERIFY2(twbtest::contains(e.what(), "name the leaf"), e.what());
        }
    }
    // A reference of the output's own structure, or a one-tensor output, is compared whole.
    QCOMPARE(twb::referenceTarget(out, out).path, std::string("out"));
    QVERIFY(twb::referenceTarget(out, out).reason.empty());
    QCOMPARE(twb::referenceTarget(logits, twb::makeTensor({1}, {1})).path, std::string("out"));
}

void TestCompare::structureShapeAndDtype() {
    const auto a = twb::makeTuple({twb::makeTensor({1}, {1}), twb::makeTensor({2}, {1})});
    const auto b = twb::makeTuple({twb::makeTensor({1}, {1})});
    const auto s = twb::compareOutputs(a, b);
    QVERIFY(!s.sameStructure && !s.allclose);
    QCOMPARE(s.leaves[1].status, twb::LeafStatus::OnlyInA);
    QCOMPARE(twb::leafVerdictText(s.leaves[1]), std::string("only in the first"));
    QVERIFY(twbtest::contains(s.summary, "structure"));

    const auto shape = twb::compareOutputs(twb::makeTensor({1, 2}, {2}), twb::makeTensor({1, 2}, {1, 2}));
    QCOMPARE(shape.leaves[0].status, twb::LeafStatus::ShapeMismatch);
    QCOMPARE(twb::leafStatusFromName(twb::leafStatusName(shape.leaves[0].status)),
             twb::LeafStatus::ShapeMismatch);
    QVERIFY(!shape.allclose);

    const auto dtype =
        twb::compareOutputs(twb::makeTensor({1, 2}, {2}, "float32"), twb::makeTensor({1, 2}, {2}, "float16"));
    QVERIFY(dtype.allclose); // the values agree; the dtype difference is noted
    QCOMPARE(dtype.leaves[0].note, std::string("dtypes differ: float32 vs float16"));

    const auto scalars = twb::compareOutputs(twb::makeTuple({twb::makeInt(3), twb::makeString("x")}),
                                             twb::makeTuple({twb::makeInt(3), twb::makeString("x")}));
    QVERIFY(scalars.allclose);
    const auto words = twb::compareOutputs(twb::makeString("yes"), twb::makeString("no"));
    QCOMPARE(words.leaves[0].status, twb::LeafStatus::ValueMismatch);
    QVERIFY(words.sameStructure && !words.allclose);
}

TWB_TEST_MAIN(TestCompare)
#include "tst_compare.moc"
