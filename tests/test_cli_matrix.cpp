// rnnscope spectrum --matrix: a user's own W from a CSV or safetensors file.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cli_testing.hpp"
#include "rnnscope/io/safetensors.hpp"

using namespace cli_testing;
using namespace rnnscope;

namespace {

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// ||M||_2 of a 2x2 matrix in closed form: sigma_max^2 = (s + sqrt(s^2 - 4 det^2)) / 2, s = ||M||_F^2.
double norm_2x2(double a, double b, double c, double d) {
  const double s = a * a + b * b + c * c + d * d, det = a * d - b * c;
  return std::sqrt((s + std::sqrt(std::max(0.0, s * s - 4 * det * det))) / 2);
}

// log10 ||W^n||_2 by power (column 2) and by eigendecomposition (column 3) from spectrum_powers.csv, row n.
std::vector<std::string> powers_row(const fs::path& dir, int n) {
  const auto rows = csv_cells(dir / "spectrum_powers.csv");
  return rows.at(static_cast<size_t>(n));
}

struct Folder {
  fs::path dir;
  explicit Folder(const std::string& name) : dir(fresh_dir(name)) { fs::create_directories(dir); }
  ~Folder() { fs::remove_all(dir); }
};

}  // namespace

TEST(CliMatrix, TwoByTwoTriangularMatchesItsClosedForm) {
  // W = [[0.5, 0.2], [0, 0.9]]: eigenvalues 0.9 and 0.5; W^n = [[0.5^n, 0.5 (0.9^n - 0.5^n)], [0, 0.9^n]].
  Folder f("matrix_2x2");
  write_text(f.dir / "w.csv", "0.5, 0.2\n0,0.9\n");
  const fs::path out = f.dir / "out";
  const auto r =
      run("spectrum --quiet --matrix " + (f.dir / "w.csv").string() + " --max-power 30 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  check_folder(out);
  const auto eig = csv_cells(out / "spectrum_eigenvalues.csv");
  ASSERT_EQ(eig.size(), 3u);
  EXPECT_NEAR(std::stod(eig[1][2]), 0.9, 1e-14);
  EXPECT_NEAR(std::stod(eig[2][2]), 0.5, 1e-14);
  EXPECT_EQ(std::stod(eig[1][3]), 0.0);
  for (const int n : {1, 2, 10, 30}) {
    const double a = std::pow(0.5, n), c = std::pow(0.9, n), b = 0.5 * (c - a);
    const double expected = std::log10(norm_2x2(a, b, 0, c));
    const auto row = powers_row(out, n);
    EXPECT_NEAR(std::stod(row[2]), expected, 1e-12) << n;
    EXPECT_NEAR(std::stod(row[3]), expected, 1e-12) << n;
    EXPECT_LT(std::stod(row[4]), 1e-13) << n;
  }
  const auto summary = nlohmann::json::parse(read(out / "summary.json"));
  const auto& w = summary["spectrum"]["W"];
  EXPECT_NEAR(w["spectral_radius"].get<double>(), 0.9, 1e-14);
  EXPECT_EQ(w["regime"], "vanishing");
  EXPECT_EQ(w["eigenvalue_regimes"]["vanishing"], 2);
  EXPECT_EQ(w["pascanu"]["gamma"], 1.0);
  EXPECT_NE(r.out.find("regime of W^n: vanishing (rho = 0.9 < 1"), std::string::npos) << r.out;
  // 30 log10 0.9 = -1.373: the seed's "W^30 = 0" is 0.042 along the slow eigenvector, not 0.
  EXPECT_NE(r.out.find("-1.373"), std::string::npos) << r.out;
  // The sigmoid's gamma = 1/4: the Pascanu threshold 4.
  const auto s = run("spectrum --quiet --force --matrix " + (f.dir / "w.csv").string() +
                     " --activation sigmoid --out " + out.string());
  ASSERT_EQ(s.code, 0) << s.out;
  const auto sigmoid = nlohmann::json::parse(read(out / "summary.json"))["spectrum"]["W"]["pascanu"];
  EXPECT_EQ(sigmoid["threshold_1_over_gamma"], 4.0);
  EXPECT_EQ(sigmoid["vanishing_guaranteed"], true);
}

TEST(CliMatrix, ThreeByThreeFromCsvAndSafetensors) {
  Folder f("matrix_3x3");
  // Symmetric: eigenvalues 1.2, 0.8, 0.3 (the 2x2 block's 1 +- 0.2), so ||W^n||_2 = 1.2^n exactly.
  write_text(f.dir / "sym.csv", "# W\n1.0,0.2,0\r\n0.2,1.0,0\r\n0,0,0.3\r\n\n");
  const fs::path out = f.dir / "out";
  const auto r = run("spectrum --quiet --matrix " + (f.dir / "sym.csv").string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto eig = csv_cells(out / "spectrum_eigenvalues.csv");
  ASSERT_EQ(eig.size(), 4u);
  const double expected[] = {1.2, 0.8, 0.3};
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(std::stod(eig[i + 1][4]), expected[i], 1e-14) << i;
  for (const int n : {1, 7, 50}) EXPECT_NEAR(std::stod(powers_row(out, n)[2]), n * std::log10(1.2), 1e-12) << n;
  auto summary = nlohmann::json::parse(read(out / "summary.json"));
  EXPECT_EQ(summary["spectrum"]["W"]["regime"], "exploding");
  EXPECT_EQ(summary["spectrum"]["W"]["pascanu"]["exploding_possible"], true);

  // Upper triangular with eigenvalues 1.1, 1 and 0.5 (its diagonal): one eigenvalue in each regime.
  // The safetensors file holds it among other tensors, as F64 and as F32.
  const std::vector<double> tri = {1.1, 0.3, 0, 0, 1, 0.2, 0, 0, 0.5};
  TensorFile file;
  file.tensors.push_back({"bias", DType::f64, {3}, {1, 2, 3}});
  file.tensors.push_back({"W", DType::f64, {3, 3}, tri});
  file.tensors.push_back({"W32", DType::f32, {3, 3}, tri});
  write_safetensors(f.dir / "model.safetensors", file);
  for (const char* name : {"W", "W32"}) {
    const auto s = run("spectrum --quiet --force --matrix " + (f.dir / "model.safetensors").string() + " --tensor " +
                       name + " --out " + out.string());
    ASSERT_EQ(s.code, 0) << s.out;
    const auto e = csv_cells(out / "spectrum_regimes.csv");
    ASSERT_EQ(e.size(), 4u);
    // F32 rounds 1.1 and 0.2 (0.5 and 1 are exact); the moduli are the diagonal's.
    const double tol = std::string(name) == "W" ? 1e-14 : 1e-7;
    EXPECT_NEAR(std::stod(e[1][4]), 1.1, tol);
    EXPECT_EQ(e[1][6], "exploding");
    EXPECT_NEAR(std::stod(e[2][4]), 1.0, 1e-14);
    EXPECT_EQ(e[2][6], "at the edge");
    EXPECT_NEAR(std::stod(e[3][4]), 0.5, 1e-14);
    EXPECT_EQ(e[3][6], "vanishing");
    summary = nlohmann::json::parse(read(out / "summary.json"));
    EXPECT_EQ(summary["spectrum"]["W"]["regime"], "exploding");
    EXPECT_EQ(summary["spectrum"]["W"]["eigenvalue_regimes"],
              (nlohmann::json{{"vanishing", 1}, {"at the edge", 1}, {"exploding", 1}}));
    // Both paths of W^50 agree: Q is well conditioned.
    EXPECT_LT(std::stod(powers_row(out, 50)[4]), 1e-12);
  }
  // A file holding one tensor needs no --tensor.
  TensorFile one;
  one.tensors.push_back({"anything", DType::f64, {3, 3}, tri});
  write_safetensors(f.dir / "one.safetensors", one);
  const auto o =
      run("spectrum --quiet --force --matrix " + (f.dir / "one.safetensors").string() + " --out " + out.string());
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("exploding (rho = 1.1 > 1"), std::string::npos) << o.out;
}

TEST(CliMatrix, ADefectiveMatrixWithholdsTheEigendecomposition) {
  // The Jordan block [[1, 1], [0, 1]] has one eigenvector: W^n = [[1, n], [0, 1]] grows like n at rho = 1.
  Folder f("matrix_defective");
  write_text(f.dir / "jordan.csv", "1,1\n0,1\n");
  const fs::path out = f.dir / "out";
  const auto r = run("spectrum --quiet --matrix " + (f.dir / "jordan.csv").string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("not diagonalisable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("withheld"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("regime of W^n: at the edge"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("polynomial in n"), std::string::npos) << r.out;
  for (const int n : {1, 10, 50}) {
    const auto row = powers_row(out, n);
    EXPECT_NEAR(std::stod(row[2]), std::log10(norm_2x2(1, n, 0, 1)), 1e-12) << n;
    EXPECT_EQ(row[3], "") << n;  // no Q Lambda^n Q^-1 printed for a Q that does not exist
  }
  const auto summary = nlohmann::json::parse(read(out / "summary.json"));
  EXPECT_EQ(summary["spectrum"]["W"]["diagonalisable"], false);
  EXPECT_TRUE(summary["spectrum"]["W"]["max_relative_difference_power_vs_eigen"].is_null());
}

TEST(CliMatrix, BadFilesAndOptionsAreRefusedWithTheirReason) {
  Folder f("matrix_bad");
  const auto csv = [&](const std::string& name, const std::string& text) {
    write_text(f.dir / name, text);
    return (f.dir / name).string();
  };
  std::string wide;
  for (int j = 0; j < 1025; ++j) wide += j == 0 ? "1" : ",1";
  TensorFile two, vec, ints, rect, nan;
  two.tensors = {{"a", DType::f64, {1, 1}, {1}}, {"b", DType::f64, {1, 1}, {2}}};
  vec.tensors = {{"v", DType::f64, {4}, {1, 2, 3, 4}}};
  ints.tensors = {{"i", DType::i64, {2, 2}, {1, 0, 0, 1}}};
  rect.tensors = {{"r", DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6}}};
  nan.tensors = {{"n", DType::f64, {2, 2}, {1, NAN, 0, 1}}};
  const auto st = [&](const std::string& name, const TensorFile& t) {
    write_safetensors(f.dir / name, t);
    return (f.dir / name).string();
  };
  const std::string good = csv("good.csv", "1,0\n0,1\n");
  const std::pair<std::string, std::string> bad[] = {
      {"--matrix " + csv("ragged.csv", "1,2\n3,4,5\n"), "row 2 (line 2) has 3 values, row 1 has 2"},
      {"--matrix " + csv("text.csv", "1,2\nabc,4\n"), "row 2 (line 2), column 1: 'abc' is not a number"},
      {"--matrix " + csv("rect.csv", "1,2,3\n4,5,6\n"), "the matrix is 2 x 3, not square"},
      {"--matrix " + csv("nan.csv", "1,nan\n0,1\n"), "row 1 (line 1), column 2: 'nan' is not a finite double"},
      {"--matrix " + csv("inf.csv", "1,2\n3,1e999\n"), "row 2 (line 2), column 2: '1e999' is not a finite double"},
      {"--matrix " + csv("hole.csv", "1,,2\n1,2,3\n1,2,3\n"), "row 1 (line 1), column 2: empty cell"},
      {"--matrix " + csv("empty.csv", ""), "no rows of numbers (the matrix is empty)"},
      {"--matrix " + csv("comments.csv", "# nothing\n\n"), "no rows of numbers"},
      {"--matrix " + csv("wide.csv", wide + "\n"), "more than 1024 columns"},
      {"--matrix " + (f.dir / "missing.csv").string(), "is not a readable file"},
      {"--matrix " + st("two.safetensors", two), "holds 2 tensors ('a', 'b'); name one with --tensor"},
      {"--matrix " + st("two2.safetensors", two) + " --tensor c", "no tensor 'c' (it holds 'a', 'b')"},
      {"--matrix " + st("vec.safetensors", vec), "has shape (4), expected a 2-D (square) matrix"},
      {"--matrix " + st("ints.safetensors", ints), "is I64, expected a floating-point matrix"},
      {"--matrix " + st("rect.safetensors", rect), "is 2 x 3, not square"},
      {"--matrix " + st("nan.safetensors", nan), "row 1, column 2 is nan, not finite"},
      {"--matrix " + csv("junk.safetensors", "not a safetensors file"), "junk.safetensors"},
      {"--matrix " + good + " --cell lstm", "--cell shapes a random network's W_hh; --matrix gives W itself"},
      {"--matrix " + good + " --hidden 8", "--hidden shapes a random network's W_hh"},
      {"--matrix " + good + " --init xavier", "--init shapes a random network's W_hh"},
      {"--matrix " + good + " --scale 2", "--scale shapes a random network's W_hh"},
      {"--matrix " + good + " --seed 3", "--seed shapes a random network's W_hh"},
      {"--matrix " + good + " --tensor W", "--tensor names a tensor of a .safetensors file"},
      {"--matrix " + good + " --activation identity", "--activation must be tanh, relu or sigmoid"},
      {"--matrix " + good + " --max-power 0", "max-power must be in 1..100000"},
      {"--tensor W", "--tensor applies to a --matrix file only"},
      {"--activation sigmoid", "--activation applies to a --matrix file only"},
  };
  const fs::path never = f.dir / "never";
  for (const auto& [args, reason] : bad) {
    const auto r = run("spectrum --quiet " + args + " --out " + never.string());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(reason), std::string::npos) << args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(never)) << args;
  }
}
