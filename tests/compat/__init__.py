"""Tests of the Judge0- and Piston-compatible APIs."""
