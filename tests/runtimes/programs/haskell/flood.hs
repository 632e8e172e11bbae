main :: IO ()
main = mapM_ putStrLn (repeat "y")
