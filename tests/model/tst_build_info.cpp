// What the build reports about its LibTorch: parsed from at::show_config() as real
// LibTorch builds print it, and this build's own values.
#include "test_support.h"

#include "twb/build_info.h"

#include <QRegularExpression>

class TestBuildInfo : public QObject {
    Q_OBJECT
private slots:
    void parsesRealConfigs_data();
    void parsesRealConfigs();
    void thisBuild();
};

namespace {
// From Debian 12's libtorch 1.13 and the official torch 2.13.0+cpu (flags abridged), and a CUDA build's
// lines as CUDAHooks::showConfig prints them where a GPU is present.
const char kDebian113[] =
    "PyTorch built with:\n  - GCC 12.2\n  - C++ Version: 201402\n  - Intel(R) MKL-DNN v2.6.3 (Git Hash N/A)\n"
    "  - OpenMP 201511 (a.k.a. OpenMP 4.5)\n  - LAPACK is enabled (usually provided by MKL)\n"
    "  - CPU capability usage: AVX2\n  - Build settings: BLAS_INFO=generic, BUILD_TYPE=RelWithDebInfo, "
    "CXX_COMPILER=/usr/bin/c++, CXX_FLAGS=-g -O2 -fvisibility-inlines-hidden -DUSE_PTHREADPOOL -fopenmp "
    "-DUSE_XNNPACK -DSYMBOLICATE_MOBILE_DEBUG_HANDLE -DEDGE_PROFILER_USE_KINETO -O2 -fPIC, "
    "LAPACK_INFO=generic, "
    "TORCH_VERSION=1.13.0, USE_CUDA=OFF, USE_CUDNN=OFF, USE_MKLDNN=ON, USE_OPENMP=ON, \n";
const char kWheel213[] =
    "PyTorch built with:\n  - GCC 13.3\n  - C++ Version: 202002\n"
    "  - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build 20240605 for Intel(R) 64 "
    "architecture applications\n  - Intel(R) MKL-DNN v3.12.0 (Git Hash "
    "80afa71049cd69a3df32adcccb623b12cd7baa22)\n"
    "  - OpenMP 201511 (a.k.a. OpenMP 4.5)\n  - LAPACK is enabled (usually provided by MKL)\n"
    "  - NNPACK is enabled\n  - CPU capability usage: AVX512\n  - Build settings: BLAS_INFO=mkl, "
    "BUILD_TYPE=Release, CXX_COMPILER=/opt/rh/gcc-toolset-13/root/usr/bin/c++, CXX_FLAGS= "
    "-fvisibility-inlines-hidden -DUSE_PTHREADPOOL -DNDEBUG -DUSE_KINETO -DUSE_FBGEMM -O2 -fPIC, "
    "LAPACK_INFO=mkl, TORCH_VERSION=2.13.0, USE_CUDA=0, USE_CUDNN=OFF, USE_MKLDNN=ON, \n";
const char kCudaWheel[] =
    "PyTorch built with:\n  - GCC 13.3\n  - Intel(R) MKL-DNN v3.12.0 (Git Hash abc)\n"
    "  - OpenMP 201511 (a.k.a. OpenMP 4.5)\n  - CPU capability usage: AVX2\n  - CUDA Runtime 12.8\n"
    "  - NVCC architecture flags: -gencode;arch=compute_80,code=sm_80\n  - CuDNN 9.10.2\n"
    "  - Build settings: BLAS_INFO=mkl, CUDA_VERSION=12.8, CUDNN_VERSION=9.10.2, "
    "CXX_FLAGS= -DUSE_KINETO -DUSE_CUDA, LAPACK_INFO=mkl, USE_CUDA=ON, \n";
} // namespace

void TestBuildInfo::parsesRealConfigs_data() {
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("maps");
    QTest::addColumn<QString>("blas");
    QTest::addColumn<QString>("onednn");
    QTest::addColumn<QString>("cuda");
    QTest::addColumn<QString>("cudnn");
    QTest::addColumn<bool>("kineto");
    QTest::addColumn<QString>("cpu");
    QTest::newRow("Debian 1.13")
        << kDebian113 << "7f0 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0\n"
        << "generic (openblas-pthread/libopenblas.so.0)"
        << "v2.6.3"
        << ""
        << "" << false << "AVX2";
    QTest::newRow("wheel 2.13 CPU") << kWheel213 << ""
                                    << "mkl (Intel MKL 2024.2)"
                                    << "v3.12.0"
                                    << ""
                                    << "" << true << "AVX512";
    QTest::newRow("CUDA wheel") << kCudaWheel << ""
                                << "mkl"
                                << "v3.12.0"
                                << "12.8"
                                << "9.10.2" << true << "AVX2";
    // Without a GPU, show_config() leaves out the CUDA lines: the build settings still say it.
    QTest::newRow("CUDA wheel, no GPU")
        << QString(kCudaWheel).remove(QRegularExpression("  - (CUDA Runtime|CuDNN)[^\\n]*\\n")) << ""
        << "mkl"
        << "v3.12.0"
        << "12.8"
        << "9.10.2" << true << "AVX2";
}

void TestBuildInfo::parsesRealConfigs() {
    QFETCH(QString, config);
    QFETCH(QString, maps);
    QFETCH(QString, blas);
    QFETCH(QString, onednn);
    QFETCH(QString, cuda);
    QFETCH(QString, cudnn);
    QFETCH(bool, kineto);
    QFETCH(QString, cpu);
    const twb::LibTorchBuild b = twb::parseLibTorchConfig(config.toStdString(), maps.toStdString());
    QCOMPARE(QString::fromStdString(b.blas), blas);
    QCOMPARE(QString::fromStdString(b.onednn), onednn);
    QCOMPARE(QString::fromStdString(b.cudaRuntime), cuda);
    QCOMPARE(QString::fromStdString(b.cudnn), cudnn);
    QCOMPARE(b.kineto, kineto);
    QCOMPARE(QString::fromStdString(b.cpuCapability), cpu);
    QCOMPARE(QString::fromStdString(b.openmp), QString("OpenMP 201511 (a.k.a. OpenMP 4.5)"));
    QVERIFY(QString::fromStdString(b.compiler).startsWith("GCC "));
}

void TestBuildInfo::thisBuild() {
    const twb::BuildInfo b = twb::buildInfo();
    const auto& l = b.libtorch;
    QVERIFY2(l.source == "wheel" || l.source == "distribution" || l.source == "custom", l.source.c_str());
    QVERIFY(!l.location.empty());
    QVERIFY2(!l.blas.empty() && !l.compiler.empty() && !l.cpuCapability.empty(), l.blas.c_str());
    QVERIFY(!l.parallelBackend.empty());
    // A CUDA runtime in the config means CUDA is compiled in, and the other way round.
    QCOMPARE(!l.cudaRuntime.empty(), b.cudaCompiled);
}

TWB_TEST_MAIN(TestBuildInfo)
#include "tst_build_info.moc"
