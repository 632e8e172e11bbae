// Executioner's helper for checkers and interactors written in C++ (docs/checkers.md). The worker puts
// this file beside a C++ checker's source unless the checker brings its own executioner_checker.h.
//
// A checker is called `checker input output answer` and says its verdict by exit code: 0 accepted,
// 1 wrong answer, 2 presentation error, 3 the checker itself failed (an internal_error for the
// submission). Its message (stderr) is shown in the test's result.
//
//     #include "executioner_checker.h"
//     int main(int argc, char* argv[]) {
//         executioner::Checker check(argc, argv);
//         long long n = check.input.integer();
//         long long got = check.output.integer(1, n);   // a bad token is a wrong answer
//         if (got != check.answer.integer()) check.wrong("expected " + std::to_string(n));
//         check.accept();
//     }
//
// An interactor (`interactor input output answer`) talks to the program with send() and receive().
#pragma once

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace executioner {

enum Code { ACCEPTED = 0, WRONG_ANSWER = 1, PRESENTATION_ERROR = 2, FAILED = 3 };

[[noreturn]] inline void quit(Code code, const std::string& message) {
    if (!message.empty()) std::cerr << message << '\n';
    std::cerr.flush();
    std::exit(code);
}
[[noreturn]] inline void accept(const std::string& message = "") { quit(ACCEPTED, message); }
[[noreturn]] inline void wrong(const std::string& message) { quit(WRONG_ANSWER, message); }
[[noreturn]] inline void presentation(const std::string& message) { quit(PRESENTATION_ERROR, message); }
[[noreturn]] inline void fail(const std::string& message) { quit(FAILED, message); }

// The whitespace-separated tokens of one stream. A bad token of the program's output is a wrong answer;
// one of the input or the answer file is the checker's failure (the test data is wrong).
class Tokens {
public:
    Tokens(std::string data, std::string name, bool blame_program)
        : data_(std::move(data)), name_(std::move(name)), blame_program_(blame_program) {}

    bool at_end() {
        skip_space();
        return pos_ >= data_.size();
    }

    std::string token() {
        skip_space();
        if (pos_ >= data_.size()) bad("unexpected end of data");
        std::size_t start = pos_;
        while (pos_ < data_.size() && !std::isspace(static_cast<unsigned char>(data_[pos_]))) ++pos_;
        return data_.substr(start, pos_ - start);
    }

    long long integer() {
        std::string text = token();
        errno = 0;
        char* end = nullptr;
        long long value = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno == ERANGE) bad("expected an integer, found '" + cut(text) + "'");
        return value;
    }

    long long integer(long long low, long long high) {
        long long value = integer();
        if (value < low || value > high) {
            bad(std::to_string(value) + " is outside [" + std::to_string(low) + ", " + std::to_string(high) + "]");
        }
        return value;
    }

    double real() {
        std::string text = token();
        char* end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !std::isfinite(value)) bad("expected a number, found '" + cut(text) + "'");
        return value;
    }

    // Require that every token was read.
    void end() {
        if (!at_end()) bad("extra data after the answer");
    }

private:
    void skip_space() {
        while (pos_ < data_.size() && std::isspace(static_cast<unsigned char>(data_[pos_]))) ++pos_;
    }
    static std::string cut(const std::string& text) { return text.substr(0, 40); }
    [[noreturn]] void bad(const std::string& what) {
        std::string message = name_ + ": " + what;
        if (blame_program_) wrong(message);
        fail(message);
    }

    std::string data_;
    std::string name_;
    bool blame_program_;
    std::size_t pos_ = 0;
};

inline std::string read_file(const char* path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) fail(std::string("cannot read ") + path);
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

// Within tolerance, absolute or relative to expected.
inline bool close_enough(double actual, double expected, double tolerance) {
    return std::fabs(actual - expected) <= tolerance * std::max(1.0, std::fabs(expected));
}

class Checker {
public:
    Checker(int argc, char* argv[])
        : input(argc > 3 ? read_file(argv[1]) : usage(), "input", false),
          output(read_file(argv[2]), "output", true),
          answer(read_file(argv[3]), "answer", false) {}

    [[noreturn]] void accept(const std::string& message = "") { executioner::accept(message); }
    [[noreturn]] void wrong(const std::string& message) { executioner::wrong(message); }
    [[noreturn]] void presentation(const std::string& message) { executioner::presentation(message); }
    [[noreturn]] void fail(const std::string& message) { executioner::fail(message); }

    // Judge by equal tokens of the output and the answer.
    [[noreturn]] void same_tokens() {
        for (long long index = 1; !answer.at_end(); ++index) {
            std::string want = answer.token();
            if (output.at_end()) wrong("token " + std::to_string(index) + ": expected '" + want + "', found the end");
            std::string got = output.token();
            if (got != want) wrong("token " + std::to_string(index) + ": expected '" + want + "', found '" + got.substr(0, 40) + "'");
        }
        output.end();
        accept();
    }

    // Judge the output's numbers against the answer's within tolerance (absolute or relative).
    [[noreturn]] void close_numbers(double tolerance = 1e-6) {
        for (long long index = 1; !answer.at_end(); ++index) {
            double want = answer.real(), got = output.real();
            if (!close_enough(got, want, tolerance)) {
                wrong("number " + std::to_string(index) + ": expected " + std::to_string(want) + ", found " + std::to_string(got));
            }
        }
        output.end();
        accept();
    }

    Tokens input, output, answer;

private:
    static std::string usage() { executioner::fail("usage: checker input output answer"); }
};

class Interactor {
public:
    Interactor(int argc, char* argv[])
        : input(argc > 1 ? read_file(argv[1]) : usage(), "input", false),
          answer(argc > 3 ? read_file(argv[3]) : std::string(), "answer", false) {}

    [[noreturn]] void accept(const std::string& message = "") { executioner::accept(message); }
    [[noreturn]] void wrong(const std::string& message) { executioner::wrong(message); }
    [[noreturn]] void presentation(const std::string& message) { executioner::presentation(message); }
    [[noreturn]] void fail(const std::string& message) { executioner::fail(message); }

    // One line to the program, flushed at once.
    template <typename... Values>
    void send(const Values&... values) {
        std::ostringstream line;
        const char* separator = "";
        ((line << separator << values, separator = " "), ...);
        std::cout << line.str() << std::endl;
    }

    // The program's next line as tokens; its end of output is a wrong answer.
    Tokens receive() {
        std::string line;
        if (!std::getline(std::cin, line)) wrong("the program ended its output too early");
        return Tokens(line, "program", true);
    }

    Tokens input, answer;

private:
    static std::string usage() { executioner::fail("usage: interactor input [output [answer]]"); }
};

}  // namespace executioner
