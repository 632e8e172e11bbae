import System.Posix.Signals

main :: IO ()
main = raiseSignal sigABRT
